package dev.trent.est;

import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;

import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSAbsentContent;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.ca.IssuerRegistry;
import dev.trent.domain.DomainException;
import dev.trent.profile.Profiles;
import dev.trent.web.ProblemException;

/**
 * EST (RFC 7030, with the RFC 8951 clarifications), under {@code /.well-known/est/} with an
 * optional label naming a certificate profile: {@code cacerts}, {@code csrattrs},
 * {@code simpleenroll} (an enrollment token as the HTTP Basic password) and
 * {@code simplereenroll} (the current certificate over TLS).
 */
@RestController
class EstController {

    /** RFC 7030 4.1.3: a certs-only CMS SignedData, base64 (RFC 8951 3: with or without line breaks). */
    static final String PKCS7_CERTS_ONLY = "application/pkcs7-mime; smime-type=certs-only";

    private static final String CHALLENGE = "Basic realm=\"trent-est\", charset=\"UTF-8\"";

    /** How long an EST client waits before retrying a deferred enrollment (RFC 7030 4.2.3). */
    static final int RETRY_AFTER_SECONDS = 30;

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EstController.class);

    private final IssuerRegistry issuers;
    private final Profiles profiles;
    private final dev.trent.enrollment.EnrollmentService enrollment;
    private final int maxBytes;
    private final boolean idevidFromProxyHeader;

    EstController(IssuerRegistry issuers, Profiles profiles, dev.trent.enrollment.EnrollmentService enrollment,
            dev.trent.config.TrentProperties properties) {
        this.issuers = issuers;
        this.profiles = profiles;
        this.enrollment = enrollment;
        this.maxBytes = properties.issuance().maxCsrBytes();
        this.idevidFromProxyHeader = properties.tls().idevidFromProxyHeader();
    }

    /**
     * RFC 7030 4.2.1: a base64 DER PKCS#10 ({@code application/pkcs10}; line breaks and
     * Content-Transfer-Encoding do not matter, RFC 8951), authenticated by HTTP Basic with the
     * device id as user name and an enrollment token as password; or, without an Authorization
     * header, by a factory certificate (IDevID) in the TLS handshake that chains to a registered
     * manufacturer CA. Answers 200 with the issued certificate as certs-only PKCS#7. A retry with
     * the same credential and key gets the same certificate, as on {@code /api/v1/enroll}.
     */
    @PostMapping({"/.well-known/est/simpleenroll", "/.well-known/est/{label}/simpleenroll"})
    ResponseEntity<byte[]> simpleenroll(jakarta.servlet.http.HttpServletRequest request,
            @PathVariable(required = false) String label,
            @org.springframework.web.bind.annotation.RequestHeader(value = "Authorization", required = false)
            String authorization) throws java.io.IOException {
        dev.trent.tls.SecureChannel.require(request);
        X509Certificate[] presented = clientCertificates(request);
        if (authorization == null && presented != null && presented.length > 0) {
            if (!request.isSecure() && !idevidFromProxyHeader) {
                // From a proxy's header, not a handshake with Trent: a factory certificate is not a
                // secret, and here nothing proves the client holds its key unless the operator
                // vouches for the proxy's client-certificate check.
                throw new ProblemException(HttpStatus.FORBIDDEN, "client-certificate-invalid",
                        "Client certificate not accepted", "Factory certificates are accepted in Trent's own TLS "
                                + "handshake only; from a proxy's header only with "
                                + "trent.tls.idevid-from-proxy-header=true.");
            }
            requireLabel(label);
            requirePkcs10(request.getContentType());
            byte[] body = readBounded(request);
            dev.trent.enrollment.EnrollmentService.Outcome outcome = enrollment.enrollWithFactoryCertificate(presented,
                    body, dev.trent.enrollment.CsrDecoder.encodingFor("application/pkcs10"), label);
            return certsOnly(List.of(certificate(outcome.certificate().der())), CacheControl.noStore());
        }
        String[] basic = basic(authorization);
        requireLabel(label);
        requirePkcs10(request.getContentType());
        byte[] body = readBounded(request);
        dev.trent.enrollment.EnrollmentService.Outcome outcome = withBasicChallenge(() -> enrollment.enroll(basic[1],
                body, dev.trent.enrollment.CsrDecoder.encodingFor("application/pkcs10"), basic[0], label));
        return certsOnly(List.of(certificate(outcome.certificate().der())), CacheControl.noStore());
    }

    /**
     * RFC 7030 4.2.3: when the CA cannot sign right now because its key is unreachable (an HSM
     * outage, a degraded start: the signer reports itself unavailable), an enrollment is deferred
     * rather than failed: 202 with {@code Retry-After}, nothing consumed, so the client's retry of
     * the same request succeeds once the CA is back. EST clients (Bouncy Castle's, libest) retry
     * on 202. A signature failing on a reachable key is not cured by waiting: 503 problem+json.
     * {@code cacerts} and {@code csrattrs} never sign, so they never get here.
     */
    @org.springframework.web.bind.annotation.ExceptionHandler(dev.trent.ca.SigningException.class)
    ResponseEntity<?> deferred(dev.trent.ca.SigningException e) {
        if (issuers.active().key().available()) {
            log.error("EST enrollment failed: the CA key is reachable but could not sign", e);
            return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                    .contentType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON)
                    .cacheControl(CacheControl.noStore())
                    .body(new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, "signer-unavailable",
                            "CA signer unavailable", "The CA could not sign; nothing was issued.").toProblemDetail());
        }
        log.warn("EST enrollment deferred (202, retry after {} s): the CA cannot sign: {}", RETRY_AFTER_SECONDS,
                e.getMessage());
        // No body: RFC 7030 defines none, and Bouncy Castle's client fails on a 202 body it does not read.
        return ResponseEntity.status(HttpStatus.ACCEPTED).header("Retry-After", String.valueOf(RETRY_AFTER_SECONDS))
                .cacheControl(CacheControl.noStore()).build();
    }

    /**
     * RFC 7030 4.2.2: renewal or rekey, authenticated by the current certificate presented in
     * the TLS handshake (see {@code EnrollmentService.renew} for the rules). 200 with the new
     * certificate as certs-only PKCS#7.
     */
    @PostMapping({"/.well-known/est/simplereenroll", "/.well-known/est/{label}/simplereenroll"})
    ResponseEntity<byte[]> simplereenroll(jakarta.servlet.http.HttpServletRequest request,
            @PathVariable(required = false) String label) throws java.io.IOException {
        dev.trent.tls.SecureChannel.require(request);
        requireLabel(label);
        requirePkcs10(request.getContentType());
        byte[] body = readBounded(request);
        dev.trent.enrollment.EnrollmentService.Outcome outcome = enrollment.renew(clientCertificates(request), body,
                dev.trent.enrollment.CsrDecoder.encodingFor("application/pkcs10"), label,
                EstRequests.SAME_NAMES_AS_CERTIFICATE);
        return certsOnly(List.of(certificate(outcome.certificate().der())), CacheControl.noStore());
    }

    /**
     * RFC 7030 4.4: server-side key generation, authenticated like {@code simpleenroll} (HTTP
     * Basic with the enrollment token). The CSR is required by the protocol but its key and
     * subject are ignored (the CA decides the content; the device may have no key to sign it
     * with). Answers {@code multipart/mixed}: the private key as base64 PKCS#8
     * ({@code application/pkcs8}, unencrypted: TLS protects it) and the certificate as certs-only
     * PKCS#7. The key is never stored; a used token gets 409.
     */
    @PostMapping({"/.well-known/est/serverkeygen", "/.well-known/est/{label}/serverkeygen"})
    ResponseEntity<byte[]> serverkeygen(jakarta.servlet.http.HttpServletRequest request,
            @PathVariable(required = false) String label,
            @org.springframework.web.bind.annotation.RequestHeader(value = "Authorization", required = false)
            String authorization) throws java.io.IOException {
        dev.trent.tls.SecureChannel.require(request);
        String[] basic = basic(authorization);
        requireLabel(label);
        requirePkcs10(request.getContentType());
        // Required by RFC 7030 4.4.1 and checked (well-formed, no key-encryption request) before the
        // token is touched; its key and subject are not used: Trent makes the key and decides the content.
        EstRequests.checkServerKeygenCsr(readBounded(request),
                dev.trent.enrollment.CsrDecoder.encodingFor("application/pkcs10"));
        dev.trent.enrollment.EnrollmentService.Generated g = withBasicChallenge(
                () -> enrollment.enrollWithGeneratedKey(basic[1], basic[0], label));
        byte[] key = g.privateKey().getEncoded();
        try {
            byte[] certs = certsOnly(List.of(certificate(g.certificate().der())), CacheControl.noStore()).getBody();
            ServerKeygenResponse.Body body = ServerKeygenResponse.of(key, certs);
            return ResponseEntity.ok().header("Content-Type", body.contentType())
                    .cacheControl(CacheControl.noStore()).body(body.bytes());
        } finally {
            java.util.Arrays.fill(key, (byte) 0);
        }
    }

    /** The client certificate chain of the TLS connection, or null (plain HTTP, or none presented). */
    static X509Certificate[] clientCertificates(jakarta.servlet.http.HttpServletRequest request) {
        return (X509Certificate[]) request.getAttribute("jakarta.servlet.request.X509Certificate");
    }

    private static void requirePkcs10(String type) {
        if (type == null || !org.springframework.http.MediaType.parseMediaType(type).equalsTypeAndSubtype(
                org.springframework.http.MediaType.parseMediaType("application/pkcs10"))) {
            throw new ProblemException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                    "Unsupported media type", "EST takes the CSR as application/pkcs10 (base64 DER); got "
                            + (type == null ? "none" : type) + ".");
        }
    }

    /**
     * RFC 7030 4.5: what the CA wants in a CSR for the label's profile (without a label: the
     * {@code device} profile): the key type and curve as an attribute (id-ecPublicKey with the
     * curve's OID, as RFC 7030's example does), and the signature algorithm's OID.
     * {@code application/csrattrs}, base64 DER; 204 when nothing is asked for.
     */
    @GetMapping({"/.well-known/est/csrattrs", "/.well-known/est/{label}/csrattrs"})
    ResponseEntity<byte[]> csrattrs(@PathVariable(required = false) String label) {
        String name = label != null ? label : "device";
        dev.trent.profile.CertificateProfile profile = profiles.get(name).orElse(null);
        if (profile == null && label != null) {
            throw new ProblemException(HttpStatus.NOT_FOUND, "not-found", "Not found",
                    "No EST label (certificate profile) '" + label + "'.");
        }
        if (profile == null) {
            return ResponseEntity.noContent().build();
        }
        org.bouncycastle.asn1.ASN1EncodableVector attrs = new org.bouncycastle.asn1.ASN1EncodableVector();
        java.util.Set<dev.trent.profile.KeyType> types = profile.keyTypes();
        if (types.contains(dev.trent.profile.KeyType.EC_P256) || types.contains(dev.trent.profile.KeyType.EC_P384)) {
            boolean p256 = types.contains(dev.trent.profile.KeyType.EC_P256);
            attrs.add(new org.bouncycastle.asn1.pkcs.Attribute(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey,
                    new org.bouncycastle.asn1.DERSet(p256 ? org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp256r1
                            : org.bouncycastle.asn1.sec.SECObjectIdentifiers.secp384r1)));
            attrs.add(p256 ? org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA256
                    : org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA384);
        } else if (types.contains(dev.trent.profile.KeyType.RSA)) {
            attrs.add(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.rsaEncryption);
            attrs.add(org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.sha256WithRSAEncryption);
        } else if (types.contains(dev.trent.profile.KeyType.ED25519)) {
            attrs.add(org.bouncycastle.asn1.edec.EdECObjectIdentifiers.id_Ed25519);
        }
        try {
            byte[] der = new org.bouncycastle.asn1.DERSequence(attrs).getEncoded();
            byte[] body = Base64.getMimeEncoder(64, new byte[] {'\r', '\n'}).encode(der);
            return ResponseEntity.ok().header("Content-Type", "application/csrattrs")
                    .header("Content-Transfer-Encoding", "base64")
                    .cacheControl(CacheControl.maxAge(java.time.Duration.ofHours(1)).cachePublic())
                    .body(new String(body, StandardCharsets.US_ASCII).concat("\r\n").getBytes(StandardCharsets.US_ASCII));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The Basic credentials as {user, password}, or 401 with a Basic challenge. */
    private static String[] basic(String authorization) {
        if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                String decoded = new String(Base64.getDecoder().decode(authorization.substring(6).strip()),
                        StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                if (colon > 0 && decoded.startsWith(dev.trent.security.Secrets.ENROLLMENT_TOKEN_PREFIX, colon + 1)) {
                    return new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
                }
            } catch (IllegalArgumentException e) {
                // not base64: answered below
            }
        }
        throw new ProblemException(HttpStatus.UNAUTHORIZED, "enrollment-token-invalid",
                "Enrollment token missing, unknown or expired", "Authenticate with HTTP Basic: the device id as user "
                        + "name and its enrollment token as password.").withChallenge(CHALLENGE);
    }

    private byte[] readBounded(jakarta.servlet.http.HttpServletRequest request) throws java.io.IOException {
        return dev.trent.web.BoundedBody.read(request, maxBytes);
    }

    private static X509Certificate certificate(byte[] der) {
        try {
            return (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(new java.io.ByteArrayInputStream(der));
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalStateException(e);
        }
    }

    @GetMapping("/.well-known/est/cacerts")
    ResponseEntity<byte[]> cacerts() {
        return certsOnly(issuers.active().signer().chain(), CacheControl.maxAge(java.time.Duration.ofHours(1))
                .cachePublic());
    }

    @GetMapping("/.well-known/est/{label}/cacerts")
    ResponseEntity<byte[]> cacerts(@PathVariable String label) {
        requireLabel(label);
        return cacerts();
    }

    /** An EST label names a certificate profile; none (null) is fine. */
    private void requireLabel(String label) {
        if (label != null && profiles.get(label).isEmpty()) {
            throw new ProblemException(HttpStatus.NOT_FOUND, "not-found", "Not found",
                    "No EST label (certificate profile) '" + label + "'.");
        }
    }

    /**
     * Runs an enrollment authenticated by HTTP Basic: its refusals of the credential (401) carry
     * the Basic challenge, not the bearer one of {@code /api/v1/enroll}.
     */
    private static <T> T withBasicChallenge(java.util.function.Supplier<T> enrollment) {
        try {
            return enrollment.get();
        } catch (DomainException e) {
            throw e.kind() == DomainException.Kind.UNAUTHENTICATED ? ProblemException.of(e).withChallenge(CHALLENGE)
                    : e;
        }
    }

    /**
     * The active issuer and its chain up to the root (the explicit trust anchor database the
     * client needs, RFC 7030 4.1.3), as a degenerate SignedData without content or signers.
     */
    static ResponseEntity<byte[]> certsOnly(List<X509Certificate> certificates, CacheControl cache) {
        try {
            CMSSignedDataGenerator g = new CMSSignedDataGenerator();
            g.addCertificates(new JcaCertStore(certificates));
            // DER, not Bouncy Castle's default BER with indefinite lengths: small devices' parsers expect DER.
            byte[] der = g.generate(new CMSAbsentContent()).getEncoded("DER");
            byte[] body = Base64.getMimeEncoder(64, new byte[] {'\r', '\n'}).encode(der);
            return ResponseEntity.ok()
                    .header("Content-Type", PKCS7_CERTS_ONLY)
                    .header("Content-Transfer-Encoding", "base64")
                    .cacheControl(cache)
                    .body(new String(body, StandardCharsets.US_ASCII).concat("\r\n").getBytes(StandardCharsets.US_ASCII));
        } catch (CMSException | CertificateEncodingException | java.io.IOException e) {
            throw new IllegalStateException("cannot encode the CA certificates as PKCS#7", e);
        }
    }
}
