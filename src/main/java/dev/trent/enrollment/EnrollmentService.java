package dev.trent.enrollment;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.audit.AuditLog;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateStatus;
import dev.trent.inventory.CertificateRepository;
import dev.trent.issuance.IssuanceService;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyPolicy;
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
    private final CertificateRepository certificates;
    private final IssuanceService issuance;
    private final Profiles profiles;
    private final AuditLog audit;
    private final Clock clock;

    EnrollmentService(EnrollmentTokens tokens, CertificateRepository certificates, IssuanceService issuance,
            Profiles profiles, AuditLog audit, Clock clock) {
        this.tokens = tokens;
        this.certificates = certificates;
        this.issuance = issuance;
        this.profiles = profiles;
        this.audit = audit;
        this.clock = clock;
    }

    /** The certificate, and whether it was issued now (201) or by an earlier identical request (200). */
    public record Outcome(Certificate certificate, boolean created) {
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
        EnrollmentTokens.Token token = tokens.lockByHash(Secrets.hash(presentedToken))
                .orElseThrow(() -> EnrollmentProblems.tokenInvalid("The enrollment token is unknown."));
        if (deviceId != null && !deviceId.equals(token.deviceId())) {
            throw EnrollmentProblems.tokenInvalid("This enrollment token is not for device '" + deviceId + "'.");
        }
        if (requestedProfile != null && !requestedProfile.equals(token.profile())) {
            throw ProblemException.badRequest("profile-mismatch", "Profile mismatch", "This enrollment token is for "
                    + "profile '" + token.profile() + "', not '" + requestedProfile + "'.");
        }
        Instant now = clock.instant();
        if (!token.isUsed() && token.isExpired(now)) {
            throw EnrollmentProblems.tokenInvalid("The enrollment token expired at " + token.expiresAt() + ".");
        }
        DecodedCsr csr = decode(body, encoding);

        if (token.isUsed()) {
            // A retry after a lost response: answered even past the token's expiry, because the
            // certificate was issued while the token was valid.
            Certificate earlier = certificates.findById(token.certificateId()).orElseThrow().toCertificate();
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
        CertificateProfile profile = profiles.get(token.profile()).orElseThrow(() -> ProblemException.badRequest(
                "profile-unavailable", "Profile unavailable",
                "The token's profile '" + token.profile() + "' is no longer configured."));
        KeyPolicy.Verdict verdict = KeyPolicy.check(profile, csr.publicKeyInfo(), csr.publicKey());
        if (!verdict.accepted()) {
            throw ProblemException.badRequest("key-refused", "Key refused", verdict.refusal());
        }
        verify(csr);

        Certificate cert = issuance.issue(new IssuanceService.Request(profile, token.deviceId(),
                token.dnsNames(), csr.publicKeyInfo(), csr.publicKeySha256(), verdict.keyType(), token.id()));
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("profile", profile.name());
        details.put("issuerId", cert.issuerId());
        details.put("keyType", cert.keyType());
        details.put("publicKeySha256", cert.publicKeySha256());
        details.put("notAfter", cert.notAfter().toString());
        details.put("tokenId", token.id());
        audit.record("device:" + token.deviceId(), "certificate.issued", cert.serial(), details);
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
