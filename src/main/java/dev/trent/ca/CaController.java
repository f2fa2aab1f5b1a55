package dev.trent.ca;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.pki.Pem;
import dev.trent.web.MediaTypes;
import dev.trent.web.ProblemException;

/** Public CA certificates: no authentication, cacheable. */
@RestController
class CaController {

    private final IssuerRegistry issuers;

    CaController(IssuerRegistry issuers) {
        this.issuers = issuers;
    }

    /** The root that relying parties trust: PEM by default, DER for {@code application/pkix-cert}. */
    @GetMapping("/api/v1/ca/root")
    ResponseEntity<byte[]> root(@RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        X509Certificate root = issuers.active().signer().rootCertificate();
        MediaType type = MediaTypes.negotiate(accept,
                List.of(MediaTypes.X_PEM_FILE, MediaTypes.PEM_CHAIN, MediaTypes.PKIX_CERT, MediaType.TEXT_PLAIN));
        return type.equals(MediaTypes.PKIX_CERT) ? der(root) : pem(List.of(root), type);
    }

    /** The issuing intermediate followed by the root, PEM. */
    @GetMapping("/api/v1/ca/chain")
    ResponseEntity<byte[]> chain(@RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        MediaType type = MediaTypes.negotiate(accept,
                List.of(MediaTypes.PEM_CHAIN, MediaTypes.X_PEM_FILE, MediaType.TEXT_PLAIN));
        return pem(issuers.active().signer().chain(), type);
    }

    /** The caIssuers URL of the AIA extension: the issuer's certificate in DER (RFC 5280 4.2.2.1). */
    @GetMapping("/ca/{file}")
    ResponseEntity<byte[]> issuerCertificate(@PathVariable String file) {
        if (!file.endsWith(".crt")) {
            throw ProblemException.notFound("No such CA certificate.");
        }
        Issuer issuer = issuers.byUrlId(file.substring(0, file.length() - 4))
                .orElseThrow(() -> ProblemException.notFound("No such CA certificate."));
        ResponseEntity<byte[]> der = der(issuer.certificate());
        // An explicit name (the one asked for: hex and .crt, checked above), so that Spring's
        // download protection does not call it f.txt.
        return ResponseEntity.status(der.getStatusCode()).headers(der.getHeaders())
                .header(HttpHeaders.CONTENT_DISPOSITION, "inline; filename=\"" + file + "\"")
                .body(der.getBody());
    }

    private static ResponseEntity<byte[]> der(X509Certificate cert) {
        try {
            return ResponseEntity.ok().contentType(MediaTypes.PKIX_CERT).cacheControl(publicCache())
                    .body(cert.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ResponseEntity<byte[]> pem(List<X509Certificate> certs, MediaType type) {
        return ResponseEntity.ok().contentType(type).cacheControl(publicCache())
                .body(Pem.certificates(certs).getBytes(StandardCharsets.US_ASCII));
    }

    private static CacheControl publicCache() {
        return CacheControl.maxAge(Duration.ofHours(1)).cachePublic();
    }
}
