package dev.trent.enrollment;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.trent.inventory.Certificate;
import dev.trent.manufacturer.ManufacturerCas;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyType;

/**
 * One device enrollment as its stages ({@link EnrollmentStage}) see it: what the request
 * presented (set when it is made), then what the stages decide in order: the credential's
 * device, the CSR, the profile, the key, the certificate. One request, one thread. A stage that
 * answers the request itself (a retry returns the earlier certificate) sets {@link #answer},
 * and the stages after it do not run.
 */
final class Enrollment {

    // What the request presented.
    final EnrollmentMetrics.Attempt attempt;
    final String presentedToken;
    final X509Certificate[] presented;
    final byte[] body;
    final CsrDecoder.Encoding encoding;
    /** The device the client claims to be (EST's Basic user name), or null. */
    final String claimedDeviceId;
    /** The profile the client asks for (EST's label), or null. */
    final String requestedProfile;
    /** What a renewal requires of the CSR's names (EST: RFC 7030 4.2.2). */
    final EnrollmentService.CsrNames csrNames;

    // What the stages decided.
    EnrollmentTokens.Token token;
    /** Renewal: the certificate that authenticated, and its leaf as presented. */
    Certificate current;
    X509Certificate currentLeaf;
    ManufacturerCas.Match factory;
    String deviceId;
    List<String> dnsNames = List.of();
    String profileName;
    CertificateProfile profile;
    DecodedCsr csr;
    KeyType keyType;
    /** Keygen: the key pair Trent generated (handed out once, never stored). */
    KeyPair generated;
    Certificate issued;
    /** Extra audit details of this flow, after those every {@code certificate.issued} carries. */
    final Map<String, Object> auditDetails = new LinkedHashMap<>();
    /** Set when the request is answered without a new certificate (a retry). */
    EnrollmentService.Outcome answer;

    Enrollment(EnrollmentMetrics.Attempt attempt, String presentedToken, X509Certificate[] presented, byte[] body,
            CsrDecoder.Encoding encoding, String claimedDeviceId, String requestedProfile,
            EnrollmentService.CsrNames csrNames) {
        this.attempt = attempt;
        this.presentedToken = presentedToken;
        this.presented = presented;
        this.body = body;
        this.encoding = encoding;
        this.claimedDeviceId = claimedDeviceId;
        this.requestedProfile = requestedProfile;
        this.csrNames = csrNames;
    }

    /** The profile name is known: the metrics' tag. */
    void profileName(String name) {
        this.profileName = name;
        attempt.profile(name);
    }

    /** The public key being certified: the CSR's, or the one Trent generated. */
    String publicKeySha256() {
        return generated != null ? dev.trent.pki.Hashes.sha256Hex(generated.getPublic().getEncoded())
                : csr.publicKeySha256();
    }
}
