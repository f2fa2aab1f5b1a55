package dev.trent.enrollment;

import java.io.IOException;
import java.net.URI;
import java.util.List;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.config.TrentProperties;
import dev.trent.inventory.CertificateRenderer;
import dev.trent.security.BearerTokens;
import dev.trent.security.Secrets;
import dev.trent.web.MediaTypes;
import dev.trent.web.ProblemException;
import jakarta.servlet.http.HttpServletRequest;

/**
 * {@code POST /api/v1/enroll}: the device-facing endpoint. Authenticated by a one-time
 * enrollment token as a Bearer credential; operator API keys are refused here.
 */
@RestController
class EnrollmentController {

    private static final List<MediaType> CSR_TYPES = List.of(MediaTypes.X_PEM_FILE, MediaType.TEXT_PLAIN,
            MediaTypes.PKCS10);

    static final MediaType ZIP = MediaType.parseMediaType("application/zip");
    private static final List<MediaType> KEYGEN_TYPES = List.of(MediaType.APPLICATION_JSON, ZIP);

    private final EnrollmentService enrollment;
    private final CertificateRenderer renderer;
    private final int maxBytes;
    /** Spring's, configured once for the application (not a fresh one per response). */
    private final tools.jackson.databind.json.JsonMapper mapper;

    EnrollmentController(EnrollmentService enrollment, CertificateRenderer renderer, TrentProperties properties,
            tools.jackson.databind.json.JsonMapper mapper) {
        this.enrollment = enrollment;
        this.renderer = renderer;
        this.maxBytes = properties.issuance().maxCsrBytes();
        this.mapper = mapper;
    }

    /**
     * Enrollment for a device that cannot make keys (MicroPython boards without ECC key
     * generation): the token alone; Trent generates the key pair, certifies it and hands out
     * key and certificate once, as JSON with PEM ({@code application/json}, the default) or as a
     * zip of DER files laid out as a MicroPython board loads them ({@code application/zip}:
     * {@code key.der} PKCS#8, {@code cert.der}, {@code ca.der} the root). The key is never stored.
     */
    @PostMapping("/api/v1/enroll/keygen")
    ResponseEntity<byte[]> keygen(HttpServletRequest request,
            @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String authorization,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) throws IOException {
        dev.trent.tls.SecureChannel.require(request);
        String token = bearerToken(authorization);
        // Negotiate before anything is issued: a 406 must never consume the token.
        MediaType type = MediaTypes.negotiate(accept, KEYGEN_TYPES);
        EnrollmentService.Generated g = enrollment.enrollWithGeneratedKey(token, null, null);
        java.util.List<java.security.cert.X509Certificate> chain = g.chain();
        byte[] leaf = g.certificate().der();
        byte[] key = g.privateKey().getEncoded();
        byte[] body;
        try {
            if (type.equalsTypeAndSubtype(ZIP)) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(out)) {
                    entry(zip, "key.der", key);
                    entry(zip, "cert.der", leaf);
                    entry(zip, "ca.der", chain.get(chain.size() - 1).getEncoded());
                }
                body = out.toByteArray();
            } else {
                java.util.Map<String, Object> json = new java.util.LinkedHashMap<>();
                json.put("serial", g.certificate().serial());
                json.put("deviceId", g.certificate().deviceId());
                json.put("keyType", g.certificate().keyType());
                json.put("privateKey", dev.trent.pki.Pem.encode("PRIVATE KEY", key));
                json.put("certificate", dev.trent.pki.Pem.encode("CERTIFICATE", leaf));
                json.put("chain", dev.trent.pki.Pem.certificates(chain));
                body = mapper.writeValueAsBytes(json);
            }
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        } finally {
            java.util.Arrays.fill(key, (byte) 0);
        }
        HttpHeaders headers = new HttpHeaders();
        headers.setLocation(URI.create("/api/v1/certificates/" + g.certificate().serial()));
        headers.setCacheControl("no-store");
        headers.setContentType(type.equalsTypeAndSubtype(ZIP) ? ZIP : MediaType.APPLICATION_JSON);
        if (type.equalsTypeAndSubtype(ZIP)) {
            headers.setContentDisposition(org.springframework.http.ContentDisposition.attachment()
                    .filename(g.certificate().deviceId() + ".zip").build());
        }
        return new ResponseEntity<>(body, headers, HttpStatus.CREATED);
    }

    private static void entry(java.util.zip.ZipOutputStream zip, String name, byte[] content) throws IOException {
        java.util.zip.ZipEntry e = new java.util.zip.ZipEntry(name);
        e.setTime(0);
        zip.putNextEntry(e);
        zip.write(content);
        zip.closeEntry();
    }

    @PostMapping("/api/v1/enroll")
    ResponseEntity<?> enroll(HttpServletRequest request,
            @RequestHeader(value = HttpHeaders.AUTHORIZATION, required = false) String authorization,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) throws IOException {
        String token = bearerToken(authorization);
        MediaType contentType = contentType(request.getContentType());
        // Negotiate before anything is issued: a 406 must never consume the token.
        MediaTypes.negotiate(accept, CertificateRenderer.OFFERED);
        byte[] body = readBounded(request);
        EnrollmentService.Outcome outcome = enrollment.enroll(token, body,
                CsrDecoder.encodingFor(contentType.toString()));
        HttpHeaders headers = new HttpHeaders();
        headers.setLocation(URI.create("/api/v1/certificates/" + outcome.certificate().serial()));
        headers.setCacheControl("no-store");
        return renderer.render(outcome.certificate(), accept, outcome.created() ? HttpStatus.CREATED : HttpStatus.OK,
                headers);
    }

    /**
     * Renewal with the current certificate presented over TLS (Trent's HTTPS listener): the same
     * request and response formats as {@code /api/v1/enroll}, the rules of
     * {@link EnrollmentService#renew}.
     */
    @PostMapping("/api/v1/renew")
    ResponseEntity<?> renew(HttpServletRequest request,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) throws IOException {
        java.security.cert.X509Certificate[] presented = (java.security.cert.X509Certificate[]) request.getAttribute(
                "jakarta.servlet.request.X509Certificate");
        MediaType contentType = contentType(request.getContentType());
        MediaTypes.negotiate(accept, CertificateRenderer.OFFERED);
        byte[] body = readBounded(request);
        EnrollmentService.Outcome outcome = enrollment.renew(presented, body,
                CsrDecoder.encodingFor(contentType.toString()), null, EnrollmentService.CsrNames.IGNORED);
        HttpHeaders headers = new HttpHeaders();
        headers.setLocation(URI.create("/api/v1/certificates/" + outcome.certificate().serial()));
        headers.setCacheControl("no-store");
        return renderer.render(outcome.certificate(), accept, HttpStatus.CREATED, headers);
    }

    private static String bearerToken(String authorization) {
        String token = BearerTokens.credential(authorization).orElseThrow(() -> EnrollmentProblems.tokenInvalid(
                "Send the enrollment token as 'Authorization: Bearer <token>'."));
        if (token.startsWith(Secrets.API_KEY_PREFIX)) {
            throw EnrollmentProblems.tokenInvalid("Operator API keys cannot enroll devices; use an enrollment token.");
        }
        return token;
    }

    private static MediaType contentType(String header) {
        MediaType type;
        try {
            type = header == null ? null : MediaType.parseMediaType(header);
        } catch (RuntimeException e) {
            type = null;
        }
        if (type != null) {
            for (MediaType allowed : CSR_TYPES) {
                if (allowed.equalsTypeAndSubtype(type)) {
                    return type;
                }
            }
        }
        throw new ProblemException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                "Unsupported media type", "Send the CSR as application/x-pem-file or text/plain (PEM), or as "
                        + "application/pkcs10 (DER or base64 DER); got " + (header == null ? "none" : header) + ".");
    }

    private byte[] readBounded(HttpServletRequest request) throws IOException {
        return dev.trent.web.BoundedBody.read(request, maxBytes);
    }
}
