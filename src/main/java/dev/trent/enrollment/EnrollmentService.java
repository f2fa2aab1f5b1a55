package dev.trent.enrollment;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.audit.AuditLog;
import dev.trent.config.WriteBehind;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateStore;
import dev.trent.issuance.IssuanceService;
import dev.trent.profile.Profiles;

/**
 * Device enrollment: four flows (token, renewal, IDevID, keygen), each a short, ordered list of
 * stage types ({@link EnrollmentStages}) ending in the issuance's own stages
 * ({@link IssuanceService}). One transaction holds the credential's lock (the token's row, the
 * current certificate's row, the factory certificate's advisory lock) from the first check to
 * the commit, so a token yields at most one certificate however many requests race for it, and
 * a failure anywhere leaves the token unused. Protocol rules (EST) live in {@code dev.trent.est}.
 */
@Service
public class EnrollmentService {

    private static final Logger log = LoggerFactory.getLogger(EnrollmentService.class);

    private final EnrollmentMetrics metrics;
    private final ObjectProvider<dev.trent.ca.IssuerRegistry> issuers;
    /** Token enrollment: a one-time token and a CSR. */
    private final List<EnrollmentStage> token;
    /** Renewal: the current certificate and a CSR. */
    private final List<EnrollmentStage> renewal;
    /** IDevID enrollment: a factory certificate and a CSR. */
    private final List<EnrollmentStage> idevid;
    /** Server-side key generation: a one-time token, no CSR. */
    private final List<EnrollmentStage> keygen;

    EnrollmentService(EnrollmentTokens tokens, CertificateStore certificates, IssuanceService issuance,
            Profiles profiles, AuditLog audit, Clock clock, TrentProperties properties,
            ObjectProvider<dev.trent.revocation.RevocationService> revocations, java.security.SecureRandom random,
            ObjectProvider<dev.trent.ca.IssuerRegistry> issuers,
            ObjectProvider<dev.trent.manufacturer.ManufacturerCas> manufacturers, EnrollmentMetrics metrics,
            ApplicationEventPublisher events, WriteBehind writes) {
        this.metrics = metrics;
        this.issuers = issuers;
        EnrollmentStage lockToken = new EnrollmentStages.LockToken(tokens, clock);
        EnrollmentStage decode = new EnrollmentStages.DecodeCsr();
        EnrollmentStage keyPolicy = new EnrollmentStages.KeyPolicyCheck();
        EnrollmentStage pop = new EnrollmentStages.ProofOfPossession();
        EnrollmentStage issue = new EnrollmentStages.Issue(issuance);
        EnrollmentStage audited = new EnrollmentStages.AuditIssued(audit, events, clock);
        // Last: the DER, the audit event and the webhook deliveries go to the database together
        // (one round trip, WriteBehind), and a failed check fails this attempt, not its commit.
        EnrollmentStage written = e -> writes.flush();
        Function<Enrollment, RuntimeException> tokenProfileMissing = EnrollmentStages::tokenProfileMissing;
        this.token = List.of(lockToken, decode, new EnrollmentStages.TokenRetry(certificates, pop),
                new EnrollmentStages.ResolveProfile(profiles, tokenProfileMissing), keyPolicy, pop, issue, audited,
                written, e -> log.info("Issued certificate {} to device {} (profile {})", e.issued.serial(), e.deviceId,
                        e.profile.name()));
        this.renewal = List.of(new EnrollmentStages.CurrentCertificate(certificates),
                new EnrollmentStages.ResolveProfile(profiles, EnrollmentStages::renewalProfileMissing),
                new EnrollmentStages.CurrentCertificateRenewable(properties, clock), decode, new EnrollmentStages.CsrNamesRule(), keyPolicy, pop, issue,
                new EnrollmentStages.RecordRenewal(certificates, audit, events, clock, properties, revocations),
                written, e -> log.info("Renewed certificate {} of device {} as {}", e.current.serial(), e.deviceId,
                        e.issued.serial()));
        this.idevid = List.of(new EnrollmentStages.FactoryCertificate(manufacturers), decode,
                new EnrollmentStages.OncePerFactoryCertificate(tokens, certificates, pop),
                new EnrollmentStages.ResolveProfile(profiles, EnrollmentStages::factoryProfileMissing),
                new EnrollmentStages.NotTheFactoryKey(), keyPolicy, pop, issue,
                new EnrollmentStages.RecordIdevidEnrollment(certificates, clock), audited, written,
                e -> log.info("Issued certificate {} to device {} on its factory certificate (manufacturer CA {})",
                        e.issued.serial(), e.deviceId, e.factory.ca().name()));
        this.keygen = List.of(lockToken, new EnrollmentStages.TokenUnused(),
                new EnrollmentStages.ResolveProfile(profiles, tokenProfileMissing),
                new EnrollmentStages.GenerateKey(random), issue, audited, written,
                e -> log.info("Issued certificate {} with a server-generated key to device {}", e.issued.serial(),
                        e.deviceId));
    }

    /** Request attribute: the device whose credential this request presented and Trent accepted. */
    public static final String CREDENTIAL_ACCEPTED = "dev.trent.enrollment.credential-accepted";

    /**
     * Marks the current request as carrying an accepted credential (a known token, a Trent or
     * factory certificate): a refusal after this point is a security decision about a known
     * device and goes to the audit log; before it, it counts as a failed authentication.
     */
    static void credentialAccepted(String deviceId) {
        org.springframework.web.context.request.RequestAttributes attrs =
                org.springframework.web.context.request.RequestContextHolder.getRequestAttributes();
        if (attrs != null) {
            attrs.setAttribute(CREDENTIAL_ACCEPTED, deviceId,
                    org.springframework.web.context.request.RequestAttributes.SCOPE_REQUEST);
        }
    }

    /** The certificate, and whether it was issued now (201) or by an earlier identical request (200). */
    public record Outcome(Certificate certificate, boolean created) {
    }

    /** A certificate for a key pair Trent generated, and that key: handed out once, never stored. */
    public record Generated(Certificate certificate, java.security.PrivateKey privateKey,
            List<X509Certificate> chain) {
    }

    /** Runs one enrollment attempt of {@code method}, counted and timed by its outcome. */
    private Outcome run(EnrollmentMetrics.Method method, List<EnrollmentStage> flow,
            Function<EnrollmentMetrics.Attempt, Enrollment> request) {
        EnrollmentMetrics.Attempt attempt = metrics.attempt(method);
        try {
            Enrollment e = EnrollmentStage.run(flow, request.apply(attempt));
            Outcome outcome = e.answer != null ? e.answer : new Outcome(e.issued, true);
            return attempt.succeeded(outcome, outcome.created());
        } catch (RuntimeException x) {
            throw attempt.failed(x);
        }
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
            Enrollment e = EnrollmentStage.run(keygen, new Enrollment(attempt, presentedToken, null, null, null,
                    deviceId, requestedProfile, CsrNames.IGNORED));
            // Resolved before the commit: nothing after it can fail and burn the token with the key unseen.
            List<X509Certificate> chain = issuers.getObject().byId(e.issued.issuerId()).orElseThrow().signer().chain();
            return attempt.succeeded(new Generated(e.issued, e.generated.getPrivate(), chain), true);
        } catch (RuntimeException x) {
            throw attempt.failed(x);
        }
    }

    /**
     * What a renewal requires of the CSR's subject and subjectAltName, given the current
     * certificate: a protocol's rule (EST simplereenroll's, RFC 7030 4.2.2, is in
     * {@code dev.trent.est}); throws to refuse.
     */
    @FunctionalInterface
    public interface CsrNames {

        /** REST renewal: ignored, as REST enrollment ignores them (the CA decides the content). */
        CsrNames IGNORED = (csr, current) -> {
        };

        void check(DecodedCsr csr, X509Certificate current);
    }

    /**
     * Renewal (EST simplereenroll, {@code POST /api/v1/renew}): a new certificate for the device
     * that authenticated with its current certificate over TLS. The certificate must be one
     * Trent issued (byte for byte), unrevoked (a hold counts), and unexpired or expired less than
     * the profile's {@code renewal-grace} ago. {@code names} is the protocol's rule for the CSR's
     * subject and SANs ({@link CsrNames#IGNORED} for REST: the CA decides the content). A new key
     * is allowed (rekey). The new certificate has the same device id, profile and DNS names. With
     * the profile's {@code revoke-on-renew} the old one is revoked (superseded) in the same
     * transaction; otherwise it stays valid.
     */
    @Transactional
    public Outcome renew(X509Certificate[] presented, byte[] body, CsrDecoder.Encoding encoding,
            String requestedProfile, CsrNames names) {
        return run(EnrollmentMetrics.Method.RENEWAL, renewal, attempt -> new Enrollment(attempt, null, presented, body,
                encoding, null, requestedProfile, names));
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
    public Outcome enrollWithFactoryCertificate(X509Certificate[] presented, byte[] body,
            CsrDecoder.Encoding encoding, String requestedProfile) {
        return run(EnrollmentMetrics.Method.IDEVID, idevid, attempt -> new Enrollment(attempt, null, presented, body,
                encoding, null, requestedProfile, CsrNames.IGNORED));
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
        return run(EnrollmentMetrics.Method.TOKEN, token, attempt -> new Enrollment(attempt, presentedToken, null,
                body, encoding, deviceId, requestedProfile, CsrNames.IGNORED));
    }

    /** Decodes a CSR for a protocol's own checks (EST serverkeygen's): 400 {@code csr-malformed}. */
    public static DecodedCsr decode(byte[] body, CsrDecoder.Encoding encoding) {
        return EnrollmentStages.decode(body, encoding);
    }
}
