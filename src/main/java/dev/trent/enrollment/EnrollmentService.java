package dev.trent.enrollment;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.audit.AuditLog;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateEvent;
import dev.trent.inventory.CertificateStatus;
import dev.trent.inventory.CertificateStore;
import dev.trent.issuance.IssuanceService;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyPolicy;
import dev.trent.profile.KeyType;
import dev.trent.profile.Profiles;
import dev.trent.security.Secrets;
import dev.trent.web.ProblemException;

/**
 * Device enrollment: a one-time token plus a CSR becomes a certificate. One transaction holds
 * the token's row lock from the first check to the commit, so a token yields at most one
 * certificate however many requests race for it, and a failure anywhere leaves the token unused.
 */
@Service
public class EnrollmentService {

    private static final Logger log = LoggerFactory.getLogger(EnrollmentService.class);

    private final EnrollmentTokens tokens;
    private final CertificateStore certificates;
    private final IssuanceService issuance;
    private final Profiles profiles;
    private final AuditLog audit;
    private final Clock clock;
    private final TrentProperties properties;
    private final org.springframework.beans.factory.ObjectProvider<dev.trent.revocation.RevocationService> revocations;
    private final java.security.SecureRandom random;
    private final org.springframework.beans.factory.ObjectProvider<dev.trent.ca.IssuerRegistry> issuers;
    private final org.springframework.beans.factory.ObjectProvider<dev.trent.manufacturer.ManufacturerCas> manufacturers;
    private final org.springframework.jdbc.core.JdbcTemplate jdbc;
    private final EnrollmentMetrics metrics;
    /** Certificate events, published inside the issuing transaction (see {@link CertificateEvent}). */
    private final org.springframework.context.ApplicationEventPublisher events;

    EnrollmentService(EnrollmentTokens tokens, CertificateStore certificates, IssuanceService issuance,
            Profiles profiles, AuditLog audit, Clock clock, TrentProperties properties,
            org.springframework.beans.factory.ObjectProvider<dev.trent.revocation.RevocationService> revocations,
            java.security.SecureRandom random,
            org.springframework.beans.factory.ObjectProvider<dev.trent.ca.IssuerRegistry> issuers,
            org.springframework.beans.factory.ObjectProvider<dev.trent.manufacturer.ManufacturerCas> manufacturers,
            org.springframework.jdbc.core.JdbcTemplate jdbc, EnrollmentMetrics metrics,
            org.springframework.context.ApplicationEventPublisher events) {
        this.metrics = metrics;
        this.events = events;
        this.manufacturers = manufacturers;
        this.jdbc = jdbc;
        this.tokens = tokens;
        this.certificates = certificates;
        this.issuance = issuance;
        this.profiles = profiles;
        this.audit = audit;
        this.clock = clock;
        this.properties = properties;
        this.revocations = revocations;
        this.random = random;
        this.issuers = issuers;
    }

    /** Request attribute: the device whose credential this request presented and Trent accepted. */
    public static final String CREDENTIAL_ACCEPTED = "dev.trent.enrollment.credential-accepted";

    /**
     * Marks the current request as carrying an accepted credential (a known token, a Trent or
     * factory certificate): a refusal after this point is a security decision about a known
     * device and goes to the audit log; before it, it counts as a failed authentication.
     */
    private static void credentialAccepted(String deviceId) {
        org.springframework.web.context.request.RequestAttributes attrs =
                org.springframework.web.context.request.RequestContextHolder.getRequestAttributes();
        if (attrs != null) {
            attrs.setAttribute(CREDENTIAL_ACCEPTED, deviceId,
                    org.springframework.web.context.request.RequestAttributes.SCOPE_REQUEST);
        }
    }

    /** The audit details every {@code certificate.issued} event carries. */
    private static Map<String, Object> issued(Certificate cert, CertificateProfile profile) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("profile", profile.name());
        details.put("issuerId", cert.issuerId());
        details.put("keyType", cert.keyType());
        details.put("publicKeySha256", cert.publicKeySha256());
        details.put("notAfter", cert.notAfter().toString());
        return details;
    }

    /** Runs one enrollment attempt of {@code method}, counted and timed by its outcome. */
    private Outcome measured(EnrollmentMetrics.Method method,
            java.util.function.Function<EnrollmentMetrics.Attempt, Outcome> work) {
        EnrollmentMetrics.Attempt attempt = metrics.attempt(method);
        try {
            Outcome outcome = work.apply(attempt);
            return attempt.succeeded(outcome, outcome.created());
        } catch (RuntimeException e) {
            throw attempt.failed(e);
        }
    }

    /** The certificate, and whether it was issued now (201) or by an earlier identical request (200). */
    public record Outcome(Certificate certificate, boolean created) {
    }

    /**
     * The presented token, locked until the transaction ends, after the checks every protocol
     * shares: known; for the device and profile the client claims (EST: Basic user name and
     * label), when it claims them; unexpired unless already used (a used token's retry is
     * answered past expiry, because its certificate was issued while it was valid).
     */
    private EnrollmentTokens.Token lockToken(String presentedToken, String deviceId, String requestedProfile) {
        EnrollmentTokens.Token token = tokens.lockByHash(Secrets.hash(presentedToken))
                .orElseThrow(() -> EnrollmentProblems.tokenInvalid("The enrollment token is unknown."));
        credentialAccepted(token.deviceId());
        if (deviceId != null && !deviceId.equals(token.deviceId())) {
            // The same answer as for an unknown token: a token guessed or stolen with the wrong
            // device name is not confirmed as valid (the audit log records the mismatch).
            throw EnrollmentProblems.tokenInvalid("The enrollment token is unknown.");
        }
        if (requestedProfile != null && !requestedProfile.equals(token.profile())) {
            throw ProblemException.badRequest("profile-mismatch", "Profile mismatch", "This enrollment token is for "
                    + "profile '" + token.profile() + "', not '" + requestedProfile + "'.");
        }
        if (!token.isUsed() && token.isExpired(clock.instant())) {
            throw EnrollmentProblems.tokenInvalid("The enrollment token expired at " + token.expiresAt() + ".");
        }
        return token;
    }

    private CertificateProfile profileOf(EnrollmentTokens.Token token) {
        return profiles.get(token.profile()).orElseThrow(() -> ProblemException.badRequest("profile-unavailable",
                "Profile unavailable", "The token's profile '" + token.profile() + "' is no longer configured."));
    }

    /** A certificate for a key pair Trent generated, and that key: handed out once, never stored. */
    public record Generated(Certificate certificate, java.security.PrivateKey privateKey,
            List<java.security.cert.X509Certificate> chain) {
    }

    /**
     * Server-side key generation for devices that cannot make keys (EST serverkeygen,
     * {@code POST /api/v1/enroll/keygen}): the token's rules as for {@link #enroll}, then a key
     * pair generated here (P-256, or P-384 where the profile allows only that) and certified.
     * The private key exists only in this response; so a used token is refused (409), since the
     * key of its certificate cannot be handed out again.
     */
    @Transactional
    public Generated enrollWithGeneratedKey(String presentedToken, String deviceId, String requestedProfile) {
        EnrollmentMetrics.Attempt attempt = metrics.attempt(EnrollmentMetrics.Method.KEYGEN);
        try {
            return attempt.succeeded(enrollWithGeneratedKey(attempt, presentedToken, deviceId, requestedProfile), true);
        } catch (RuntimeException e) {
            throw attempt.failed(e);
        }
    }

    private Generated enrollWithGeneratedKey(EnrollmentMetrics.Attempt attempt, String presentedToken, String deviceId,
            String requestedProfile) {
        EnrollmentTokens.Token token = lockToken(presentedToken, deviceId, requestedProfile);
        attempt.profile(token.profile());
        if (token.isUsed()) {
            throw new ProblemException(HttpStatus.CONFLICT, "enrollment-token-used", "Enrollment token already used",
                    "This enrollment token was already used. A key Trent generated is handed out once and never "
                            + "stored; ask the operator for a new token.");
        }
        CertificateProfile profile = profileOf(token);
        KeyType type = profile.keyTypes().contains(KeyType.EC_P256) ? KeyType.EC_P256
                : profile.keyTypes().contains(KeyType.EC_P384) ? KeyType.EC_P384 : null;
        if (type == null) {
            throw ProblemException.badRequest("key-refused", "Key refused", "Profile '" + profile.name()
                    + "' allows no EC key type; server-side key generation makes EC P-256 or P-384 keys only.");
        }
        java.security.KeyPair keys;
        try {
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC", dev.trent.pki.Providers.BC);
            g.initialize(new java.security.spec.ECGenParameterSpec(type == KeyType.EC_P256 ? "secp256r1" : "secp384r1"),
                    random);
            keys = g.generateKeyPair();
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a key pair", e);
        }
        org.bouncycastle.asn1.x509.SubjectPublicKeyInfo spki = org.bouncycastle.asn1.x509.SubjectPublicKeyInfo
                .getInstance(keys.getPublic().getEncoded());
        String keySha256 = dev.trent.pki.Hashes.sha256Hex(keys.getPublic().getEncoded());
        Certificate cert = issuance.issue(new IssuanceService.Request(profile, token.deviceId(), token.dnsNames(), spki,
                keySha256, type, token.id()));
        Map<String, Object> details = issued(cert, profile);
        details.put("keyGeneratedBy", "server");
        details.put("tokenId", token.id());
        audit.record("device:" + token.deviceId(), "certificate.issued", cert.serial(), details);
        events.publishEvent(CertificateEvent.issued(cert.serial(), cert.deviceId(), cert.profile(), clock.instant()));
        log.info("Issued certificate {} with a server-generated key to device {}", cert.serial(), token.deviceId());
        // Resolved before the commit: nothing after it can fail and burn the token with the key unseen.
        List<java.security.cert.X509Certificate> chain = issuers.getObject().byId(cert.issuerId()).orElseThrow()
                .signer().chain();
        return new Generated(cert, keys.getPrivate(), chain);
    }

    /**
     * EST serverkeygen's CSR (RFC 7030 4.4.1): required by the protocol and well-formed, but its
     * key and subject are not used. A request for the key encrypted to a symmetric or asymmetric
     * key (DecryptKeyIdentifier, AsymmetricDecryptKeyIdentifier; 4.4.1.1, 4.4.1.2) is refused:
     * Trent returns the key protected by TLS only, and must not silently ignore such a request.
     */
    public void checkServerKeygenCsr(byte[] body, CsrDecoder.Encoding encoding) {
        DecodedCsr csr = decode(body, encoding);
        for (String oid : List.of("1.2.840.113549.1.9.16.2.37", "1.2.840.113549.1.9.16.2.54")) {
            if (csr.request().getAttributes(new org.bouncycastle.asn1.ASN1ObjectIdentifier(oid)).length > 0) {
                throw ProblemException.badRequest("key-encryption-unsupported", "Key encryption unsupported",
                        "The CSR asks for the private key encrypted (" + (oid.endsWith("37") ? "DecryptKeyIdentifier"
                                : "AsymmetricDecryptKeyIdentifier") + "); Trent returns it protected by TLS only. "
                                + "Send the CSR without that attribute.");
            }
        }
    }

    /**
     * Renewal (EST simplereenroll, {@code POST /api/v1/renew}): a new certificate for the device
     * that authenticated with its current certificate over TLS. The certificate must be one
     * Trent issued (byte for byte), unrevoked (a hold counts), and unexpired or expired less than
     * the profile's {@code renewal-grace} ago. With {@link CsrNames#IDENTICAL} (EST
     * simplereenroll) the CSR's subject and SANs must be identical to the certificate's (RFC 7030
     * 4.2.2); with {@link CsrNames#IGNORED} (REST renewal) they are ignored, as REST enrollment
     * ignores them: the CA decides the content. A new key is allowed (rekey). The new certificate
     * has the same device id, profile and DNS names. With the profile's {@code revoke-on-renew} the
     * old one is revoked (superseded) in the same transaction; otherwise it stays valid.
     */
    @Transactional
    public Outcome renew(java.security.cert.X509Certificate[] presented, byte[] body, CsrDecoder.Encoding encoding,
            String requestedProfile, CsrNames names) {
        return measured(EnrollmentMetrics.Method.RENEWAL,
                attempt -> renew(attempt, presented, body, encoding, requestedProfile, names));
    }

    /** What a renewal does with the CSR's subject and subjectAltName. */
    public enum CsrNames {
        /** EST simplereenroll: identical to the current certificate's (RFC 7030 4.2.2), else 400 {@code subject-mismatch}. */
        IDENTICAL,
        /** REST renewal: ignored, as REST enrollment ignores them (the CA decides the content). */
        IGNORED
    }

    private Outcome renew(EnrollmentMetrics.Attempt attempt, java.security.cert.X509Certificate[] presented,
            byte[] body, CsrDecoder.Encoding encoding, String requestedProfile, CsrNames names) {
        if (presented == null || presented.length == 0) {
            throw clientCertificate("client-certificate-required", "Client certificate required",
                    "Renewal is authenticated by the current certificate: present it in the TLS handshake.");
        }
        java.security.cert.X509Certificate leaf = presented[0];
        Certificate current;
        try {
            byte[] der = leaf.getEncoded();
            String serial = dev.trent.issuance.SerialNumbers.toHex(leaf.getSerialNumber());
            // Locked for the rest of the transaction: a revocation, hold or second renewal of the
            // same certificate waits, and what is checked below stays true until the commit.
            certificates.lock(serial);
            current = certificates.bySerial(serial).filter(c -> java.util.Arrays.equals(c.der(), der))
                    .orElseThrow(() -> clientCertificate("client-certificate-invalid", "Client certificate not accepted",
                            "The client certificate was not issued by this CA."));
        } catch (java.security.cert.CertificateEncodingException e) {
            throw clientCertificate("client-certificate-invalid", "Client certificate not accepted",
                    "The client certificate cannot be read.");
        }
        credentialAccepted(current.deviceId());
        TrentProperties.Profile settings = properties.profiles().get(current.profile());
        attempt.profile(current.profile());
        CertificateProfile profile = settings == null ? null : profiles.get(current.profile()).orElse(null);
        if (profile == null) {
            throw clientCertificate("client-certificate-invalid", "Client certificate not accepted",
                    "Certificates of profile '" + current.profile() + "' are not renewed here.");
        }
        if (current.status() == CertificateStatus.REVOKED) {
            throw clientCertificate("client-certificate-revoked", "Client certificate revoked",
                    "The client certificate is revoked (or on hold); it cannot renew.");
        }
        Instant now = clock.instant();
        if (now.isAfter(current.notAfter().plus(settings.renewalGrace()))) {
            throw clientCertificate("client-certificate-expired", "Client certificate expired",
                    "The client certificate expired at " + current.notAfter() + (settings.renewalGrace().isZero()
                            ? "; profile '" + profile.name() + "' allows no renewal after expiry."
                            : ", longer ago than profile '" + profile.name() + "' allows (" + settings.renewalGrace()
                                    + ")."));
        }
        if (requestedProfile != null && !requestedProfile.equals(current.profile())) {
            throw ProblemException.badRequest("profile-mismatch", "Profile mismatch", "The client certificate is of "
                    + "profile '" + current.profile() + "', not '" + requestedProfile + "'.");
        }
        DecodedCsr csr = decode(body, encoding);
        if (names == CsrNames.IDENTICAL) {
            requireSameNames(csr, leaf);
        }
        KeyPolicy.Verdict verdict = KeyPolicy.check(profile, csr.publicKeyInfo(), csr.publicKey());
        if (!verdict.accepted()) {
            throw ProblemException.badRequest("key-refused", "Key refused", verdict.refusal());
        }
        verify(csr);
        Certificate cert = issuance.issue(new IssuanceService.Request(profile, current.deviceId(), current.dnsNames(),
                csr.publicKeyInfo(), csr.publicKeySha256(), verdict.keyType(), null));
        Map<String, Object> details = new LinkedHashMap<>();
        certificates.linkRenewal(current.issuerId(), current.serial(), cert.issuerId(), cert.serial());
        details.put("previous", current.serial());
        details.put("rekey", !cert.publicKeySha256().equals(current.publicKeySha256()));
        details.put("profile", profile.name());
        details.put("notAfter", cert.notAfter().toString());
        audit.record("device:" + current.deviceId(), "certificate.renewed", cert.serial(), details);
        events.publishEvent(CertificateEvent.renewed(cert.serial(), cert.deviceId(), cert.profile(), clock.instant(), current.serial()));
        if (settings.revokeOnRenew()) {
            revocations.getObject().revoke(current.serial(), dev.trent.revocation.RevocationReason.superseded, null,
                    "device:" + current.deviceId());
        }
        log.info("Renewed certificate {} of device {} as {}", current.serial(), current.deviceId(), cert.serial());
        return new Outcome(cert, true);
    }

    /**
     * IDevID enrollment (EST simpleenroll without HTTP Basic): the device's factory certificate,
     * presented in the TLS handshake, chains to a registered manufacturer CA
     * ({@link dev.trent.manufacturer.ManufacturerCas#match}); it gets one operational certificate
     * of that CA's profile, for the device id the factory certificate names, and for a key of its
     * own (not the factory key: the operational identity must be revocable without touching the
     * factory one). A retry with the same factory certificate and key gets the same certificate
     * (200); another key, 409: afterwards the device renews with its operational certificate.
     */
    @Transactional
    public Outcome enrollWithFactoryCertificate(java.security.cert.X509Certificate[] presented, byte[] body,
            CsrDecoder.Encoding encoding, String requestedProfile) {
        return measured(EnrollmentMetrics.Method.IDEVID,
                attempt -> enrollWithFactoryCertificate(attempt, presented, body, encoding, requestedProfile));
    }

    private Outcome enrollWithFactoryCertificate(EnrollmentMetrics.Attempt attempt,
            java.security.cert.X509Certificate[] presented, byte[] body, CsrDecoder.Encoding encoding,
            String requestedProfile) {
        dev.trent.manufacturer.ManufacturerCas.Match match = manufacturers.getObject().match(presented);
        attempt.profile(match.ca().profile());
        String deviceId = match.deviceId();
        credentialAccepted(deviceId);
        if (requestedProfile != null && !requestedProfile.equals(match.ca().profile())) {
            throw ProblemException.badRequest("profile-mismatch", "Profile mismatch", "Manufacturer CA '"
                    + match.ca().name() + "' authorises profile '" + match.ca().profile() + "', not '" + requestedProfile
                    + "'.");
        }
        DecodedCsr csr = decode(body, encoding);
        // One enrollment per factory certificate and device id: concurrent requests for either wait here.
        tokens.lockName("idevid:" + match.idevidSha256());
        tokens.lockName("device:" + deviceId);
        // This factory certificate's own earlier enrollment first, then another one for the same id.
        CertificateStore.IdevidEnrollment earlier = certificates.earlierIdevidEnrollment(match.idevidSha256(), deviceId)
                .orElse(null);
        if (earlier != null) {
            Certificate before = certificates.byId(earlier.certificateId()).orElseThrow();
            boolean sameIdevid = match.idevidSha256().equals(earlier.idevidSha256());
            if (sameIdevid && before.publicKeySha256().equals(csr.publicKeySha256())
                    && before.status() != CertificateStatus.REVOKED) {
                verify(csr);
                log.info("IDevID enrollment retry for device {}: returning certificate {}", deviceId, before.serial());
                return new Outcome(before, false);
            }
            throw new ProblemException(HttpStatus.CONFLICT, "idevid-already-enrolled", "Device already enrolled",
                    "Device '" + deviceId + "' already enrolled with "
                            + (sameIdevid ? "this factory certificate" : "another factory certificate")
                            + " (certificate " + before.serial() + "). It renews with its operational certificate "
                            + "(simplereenroll); a new first enrollment needs an enrollment token from the operator.");
        }
        // A device id that exists otherwise (a token for it, or a certificate issued on one)
        // belongs to someone else: a factory certificate never takes it over.
        // Delivered certificates only: a PENDING row is this device's own interrupted attempt (an
        // IDevID request holds the device's advisory lock; a token's row is counted below).
        if (certificates.deviceIdTaken(deviceId)) {
            throw new ProblemException(HttpStatus.CONFLICT, "device-id-taken", "Device id taken", "The device id '"
                    + deviceId + "' that this factory certificate names is already in use (an enrollment token or a "
                    + "certificate). Give the manufacturer CA a device id prefix of its own, or ask the operator.");
        }
        String idevidSubject = org.bouncycastle.asn1.x500.X500Name.getInstance(
                match.idevid().getSubjectX500Principal().getEncoded()).toString();
        String idevidSerial = match.idevid().getSerialNumber().toString(16);
        if (idevidSerial.length() > 64 || idevidSubject.indexOf('\0') >= 0) {
            throw ProblemException.badRequest("client-certificate-invalid", "Client certificate not accepted",
                    "The factory certificate's serial number or subject cannot be recorded.");
        }
        CertificateProfile profile = profiles.get(match.ca().profile()).orElseThrow(() -> ProblemException.badRequest(
                "profile-unavailable", "Profile unavailable", "Manufacturer CA '" + match.ca().name()
                        + "' names profile '" + match.ca().profile() + "', which is no longer configured."));
        String factoryKey = dev.trent.pki.Hashes.sha256Hex(match.idevid().getPublicKey().getEncoded());
        if (factoryKey.equals(csr.publicKeySha256())) {
            throw ProblemException.badRequest("key-refused", "Key refused", "The CSR carries the factory "
                    + "certificate's key. Generate a new key pair for the operational certificate.");
        }
        KeyPolicy.Verdict verdict = KeyPolicy.check(profile, csr.publicKeyInfo(), csr.publicKey());
        if (!verdict.accepted()) {
            throw ProblemException.badRequest("key-refused", "Key refused", verdict.refusal());
        }
        verify(csr);
        Certificate cert = issuance.issue(new IssuanceService.Request(profile, deviceId, List.of(), csr.publicKeyInfo(),
                csr.publicKeySha256(), verdict.keyType(), null));
        certificates.recordIdevidEnrollment(match.idevidSha256(), match.ca().id(), idevidSubject, idevidSerial,
                deviceId, cert.issuerId(), cert.serial(), clock.instant());
        Map<String, Object> details = issued(cert, profile);
        details.put("manufacturerCa", match.ca().name());
        details.put("idevidSubject", idevidSubject);
        details.put("idevidSha256", match.idevidSha256());
        audit.record("device:" + deviceId, "certificate.issued", cert.serial(), details);
        events.publishEvent(CertificateEvent.issued(cert.serial(), cert.deviceId(), cert.profile(), clock.instant()));
        log.info("Issued certificate {} to device {} on its factory certificate (manufacturer CA {})", cert.serial(),
                deviceId, match.ca().name());
        return new Outcome(cert, true);
    }

    /** RFC 7030 4.2.2: subject and subjectAltName of the CSR identical to the certificate's. */
    private static void requireSameNames(DecodedCsr csr, java.security.cert.X509Certificate leaf) {
        try {
            org.bouncycastle.asn1.x500.X500Name certSubject = org.bouncycastle.asn1.x500.X500Name.getInstance(
                    leaf.getSubjectX500Principal().getEncoded());
            if (!java.util.Arrays.equals(csr.request().getSubject().getEncoded(), certSubject.getEncoded())) {
                throw ProblemException.badRequest("subject-mismatch", "Subject mismatch", "The CSR's subject ("
                        + csr.request().getSubject() + ") must be identical to the current certificate's (" + certSubject
                        + ").");
            }
            byte[] certSans = leaf.getExtensionValue(org.bouncycastle.asn1.x509.Extension.subjectAlternativeName.getId());
            org.bouncycastle.asn1.x509.GeneralNames wanted = null;
            for (org.bouncycastle.asn1.pkcs.Attribute a : csr.request().getAttributes(
                    org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                org.bouncycastle.asn1.x509.Extensions ext = org.bouncycastle.asn1.x509.Extensions.getInstance(
                        a.getAttrValues().getObjectAt(0));
                wanted = org.bouncycastle.asn1.x509.GeneralNames.fromExtensions(ext,
                        org.bouncycastle.asn1.x509.Extension.subjectAlternativeName);
            }
            org.bouncycastle.asn1.x509.GeneralNames have = certSans == null ? null
                    : org.bouncycastle.asn1.x509.GeneralNames.getInstance(
                            org.bouncycastle.asn1.ASN1OctetString.getInstance(certSans).getOctets());
            boolean same = have == null ? wanted == null
                    : wanted != null && java.util.Arrays.equals(have.getEncoded(), wanted.getEncoded());
            if (!same) {
                throw ProblemException.badRequest("subject-mismatch", "Subject mismatch", "The CSR's subjectAltName "
                        + "must be identical to the current certificate's (" + (have == null ? "none" : "as issued")
                        + ").");
            }
        } catch (java.io.IOException e) {
            throw ProblemException.badRequest("csr-malformed", "Malformed CSR", "The CSR's names cannot be read.");
        }
    }

    /**
     * 401 when no certificate was presented (the challenge names the EST realm; the credential
     * is the TLS client certificate), 403 when the one presented is not accepted.
     */
    private static ProblemException clientCertificate(String type, String title, String detail) {
        if (type.equals("client-certificate-required")) {
            return new ProblemException(HttpStatus.UNAUTHORIZED, type, title, detail).withChallenge(
                    "Basic realm=\"trent-est\"");
        }
        return new ProblemException(HttpStatus.FORBIDDEN, type, title, detail);
    }

    @Transactional
    public Outcome enroll(String presentedToken, byte[] body, CsrDecoder.Encoding encoding) {
        return enroll(presentedToken, body, encoding, null, null);
    }

    /**
     * As {@link #enroll(String, byte[], CsrDecoder.Encoding)}, for a protocol that also names the
     * device and the profile (EST: the HTTP Basic user name and the label): a token for another
     * device is refused as an authentication failure (401), one for another profile with 400,
     * before anything is consumed.
     *
     * @param deviceId the device the client claims to be, or null
     * @param profile  the profile the client asks for, or null
     */
    @Transactional
    public Outcome enroll(String presentedToken, byte[] body, CsrDecoder.Encoding encoding, String deviceId,
            String requestedProfile) {
        return measured(EnrollmentMetrics.Method.TOKEN,
                attempt -> enroll(attempt, presentedToken, body, encoding, deviceId, requestedProfile));
    }

    private Outcome enroll(EnrollmentMetrics.Attempt attempt, String presentedToken, byte[] body,
            CsrDecoder.Encoding encoding, String deviceId, String requestedProfile) {
        EnrollmentTokens.Token token = lockToken(presentedToken, deviceId, requestedProfile);
        attempt.profile(token.profile());
        DecodedCsr csr = decode(body, encoding);

        if (token.isUsed()) {
            // A retry after a lost response: answered even past the token's expiry, because the
            // certificate was issued while the token was valid.
            Certificate earlier = certificates.byId(token.certificateId()).orElseThrow();
            if (earlier.publicKeySha256().equals(csr.publicKeySha256())
                    && earlier.status() == CertificateStatus.REVOKED) {
                throw new ProblemException(HttpStatus.CONFLICT, "enrollment-token-used",
                        "Enrollment token already used", "The certificate issued for this token has since been "
                                + "revoked; ask the operator for a new token.");
            }
            if (earlier.publicKeySha256().equals(csr.publicKeySha256())) {
                verify(csr);
                log.info("Enrollment retry for device {}: returning certificate {}", token.deviceId(), earlier.serial());
                return new Outcome(earlier, false);
            }
            throw new ProblemException(HttpStatus.CONFLICT, "enrollment-token-used", "Enrollment token already used",
                    "This enrollment token was already used, with another key. Ask the operator for a new token.");
        }
        CertificateProfile profile = profileOf(token);
        KeyPolicy.Verdict verdict = KeyPolicy.check(profile, csr.publicKeyInfo(), csr.publicKey());
        if (!verdict.accepted()) {
            throw ProblemException.badRequest("key-refused", "Key refused", verdict.refusal());
        }
        verify(csr);

        Certificate cert = issuance.issue(new IssuanceService.Request(profile, token.deviceId(),
                token.dnsNames(), csr.publicKeyInfo(), csr.publicKeySha256(), verdict.keyType(), token.id()));
        Map<String, Object> details = issued(cert, profile);
        details.put("tokenId", token.id());
        audit.record("device:" + token.deviceId(), "certificate.issued", cert.serial(), details);
        events.publishEvent(CertificateEvent.issued(cert.serial(), cert.deviceId(), cert.profile(), clock.instant()));
        log.info("Issued certificate {} to device {} (profile {})", cert.serial(), token.deviceId(), profile.name());
        return new Outcome(cert, true);
    }

    private static DecodedCsr decode(byte[] body, CsrDecoder.Encoding encoding) {
        try {
            return CsrDecoder.decode(body, encoding);
        } catch (CsrException e) {
            throw EnrollmentProblems.from(e);
        }
    }

    private static void verify(DecodedCsr csr) {
        try {
            CsrDecoder.verifyProofOfPossession(csr);
        } catch (CsrException e) {
            throw EnrollmentProblems.from(e);
        }
    }
}
