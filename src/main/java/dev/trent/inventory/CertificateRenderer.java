package dev.trent.inventory;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;

import com.fasterxml.jackson.annotation.JsonInclude;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.pki.Pem;
import dev.trent.web.MediaTypes;

/**
 * Renders a certificate record the way the client asked (Accept): a PEM chain (leaf then
 * intermediates, never the root), the leaf alone in DER, or JSON.
 */
@Component
public class CertificateRenderer {

    /** Offered in this order; the first is the default. */
    public static final List<MediaType> OFFERED = List.of(MediaTypes.PEM_CHAIN, MediaTypes.PKIX_CERT,
            MediaType.APPLICATION_JSON, MediaTypes.X_PEM_FILE);

    private final IssuerRegistry issuers;

    CertificateRenderer(IssuerRegistry issuers) {
        this.issuers = issuers;
    }

    /** A certificate as JSON; the PEM fields are absent in list results. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CertificateView(String serial, String issuerId, String deviceId, String profile, String subject,
            List<String> dnsNames, String status, String keyType, String publicKeySha256, Instant notBefore,
            Instant notAfter, Instant issuedAt, Instant revokedAt, String revocationReason, Instant invalidityDate,
            int derBytes, int chainDerBytes, String certificatePem, String chainPem) {
    }

    public CertificateView summary(Certificate r) {
        return view(r, intermediates(r), null, null);
    }

    public CertificateView detail(Certificate r) {
        String leaf = Pem.encode("CERTIFICATE", r.der());
        List<X509Certificate> intermediates = intermediates(r);
        return view(r, intermediates, leaf, leaf + intermediatesPem(r.issuerId(), intermediates));
    }

    /**
     * @param intermediates what {@code chainDerBytes} adds to the leaf: what a device sends in its
     *                      handshake (and keeps in flash) besides its own certificate
     */
    private static CertificateView view(Certificate r, List<X509Certificate> intermediates, String leafPem,
            String chainPem) {
        int leafBytes = r.derLength();
        int chainBytes = leafBytes;
        for (X509Certificate c : intermediates) {
            try {
                chainBytes += c.getEncoded().length;
            } catch (java.security.cert.CertificateEncodingException e) {
                throw new IllegalStateException("issuer certificate cannot be encoded", e);
            }
        }
        return new CertificateView(r.serial(), r.issuerId(), r.deviceId(), r.profile(), r.subjectDn(), r.dnsNames(),
                r.status().name(), r.keyType(), r.publicKeySha256(), r.notBefore(), r.notAfter(), r.issuedAt(),
                r.revocation() == null ? null : r.revocation().revokedAt(),
                r.revocation() == null ? null : r.revocation().reason(),
                r.revocation() == null ? null : r.revocation().invalidityDate(), leafBytes, chainBytes, leafPem,
                chainPem);
    }

    /** The issuer's chain without its root: what a TLS peer sends after its own certificate. */
    List<X509Certificate> intermediates(Certificate r) {
        Issuer issuer = issuers.byId(r.issuerId()).orElseThrow(() -> new IllegalStateException(
                "certificate " + r.serial() + " names unknown issuer " + r.issuerId()));
        List<X509Certificate> chain = issuer.signer().chain();
        return chain.size() > 1 ? chain.subList(0, chain.size() - 1) : List.of();
    }

    /** The response for {@code record} in the negotiated format. */
    public ResponseEntity<?> render(Certificate r, String accept, HttpStatus status, HttpHeaders headers) {
        MediaType type = MediaTypes.negotiate(accept, OFFERED);
        ResponseEntity.BodyBuilder b = ResponseEntity.status(status).headers(headers);
        if (type.equals(MediaTypes.PKIX_CERT)) {
            return b.contentType(MediaTypes.PKIX_CERT).body(r.der());
        }
        if (type.equals(MediaType.APPLICATION_JSON)) {
            return b.contentType(MediaType.APPLICATION_JSON).body(detail(r));
        }
        String pem = Pem.encode("CERTIFICATE", r.der()) + intermediatesPem(r.issuerId(), intermediates(r));
        return b.contentType(type).body(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** An issuer's intermediates as PEM, and the chain they were encoded from. */
    private record EncodedChain(List<X509Certificate> chain, String pem) {
    }

    /** By issuer id; encoded again when the issuer's signer hands out another chain (a reconnect). */
    private final java.util.concurrent.ConcurrentMap<String, EncodedChain> encodedChains =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The PEM of {@link #intermediates}, encoded once per issuer chain rather than for every
     * certificate served (1-2% of an enrollment's CPU samples, bench/README.md).
     */
    private String intermediatesPem(String issuerId, List<X509Certificate> intermediates) {
        EncodedChain cached = encodedChains.get(issuerId);
        if (cached != null && cached.chain().equals(intermediates)) {
            return cached.pem();
        }
        String pem = Pem.certificates(intermediates);
        encodedChains.put(issuerId, new EncodedChain(List.copyOf(intermediates), pem));
        return pem;
    }
}
