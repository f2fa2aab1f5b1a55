package dev.trent.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.trent.domain.DomainException;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateStatus;
import dev.trent.inventory.CertificateStore;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;
import dev.trent.support.TestCsrs;
import dev.trent.web.ProblemException;

/** The enrollment stages alone (no database: the store is a mock). */
class EnrollmentStagesTest {

    private static final CertificateProfile P256_ONLY = profile(Set.of(KeyType.EC_P256));

    private static CertificateProfile profile(Set<KeyType> types) {
        return new CertificateProfile("device", Duration.ofDays(30), types, 2048,
                List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.clientAuth), false, false, 0);
    }

    private static Enrollment request(byte[] body) {
        return new Enrollment(null, "token", null, body, CsrDecoder.Encoding.TEXT, null, null,
                EnrollmentService.CsrNames.IGNORED);
    }

    private static String type(Throwable t) {
        return ((DomainException) t).code();
    }

    @Test
    void decodeWhenGarbageThenCsrMalformedAndWhenValidThenTheKeyIsKnown() {
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> new EnrollmentStages.DecodeCsr()
                .apply(request("not a csr".getBytes())))).satisfies(t -> assertThat(type(t)).endsWith("csr-malformed"));

        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        Enrollment e = request(csr.pem().getBytes());
        new EnrollmentStages.DecodeCsr().apply(e);
        assertThat(e.csr.publicKeySha256()).isEqualTo(dev.trent.pki.Hashes.sha256Hex(
                csr.keys().getPublic().getEncoded()));
    }

    @Test
    void keyPolicyWhenKeyTypeNotAllowedThenKeyRefusedElseTypeDecided() {
        Enrollment p384 = request(TestCsrs.ecP384("x").pem().getBytes());
        new EnrollmentStages.DecodeCsr().apply(p384);
        p384.profile = P256_ONLY;
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> new EnrollmentStages.KeyPolicyCheck()
                .apply(p384))).satisfies(t -> assertThat(type(t)).endsWith("key-refused"));

        Enrollment p256 = request(TestCsrs.ecP256("x").pem().getBytes());
        new EnrollmentStages.DecodeCsr().apply(p256);
        p256.profile = P256_ONLY;
        new EnrollmentStages.KeyPolicyCheck().apply(p256);
        assertThat(p256.keyType).isEqualTo(KeyType.EC_P256);
    }

    @Test
    void proofOfPossessionWhenCsrSignedByAnotherKeyThenRefused() throws Exception {
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        // The same request body, signed by a second key: the signature does not verify with the CSR's key.
        TestCsrs.Csr other = TestCsrs.ecP256("x");
        org.bouncycastle.asn1.pkcs.CertificationRequest forged = new org.bouncycastle.asn1.pkcs.CertificationRequest(
                csr.request().toASN1Structure().getCertificationRequestInfo(),
                other.request().getSignatureAlgorithm(),
                new org.bouncycastle.asn1.DERBitString(other.request().getSignature()));
        Enrollment e = request(dev.trent.pki.Pem.encode("CERTIFICATE REQUEST", forged.getEncoded()).getBytes());
        new EnrollmentStages.DecodeCsr().apply(e);

        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> new EnrollmentStages.ProofOfPossession()
                .apply(e))).satisfies(t -> assertThat(type(t)).endsWith("csr-signature-invalid"));
    }

    private static Certificate earlier(String keySha256, CertificateStatus status) {
        Instant now = Instant.now();
        return new Certificate("abc", "issuer", "dev-1", "device", "CN=dev-1", List.of(), status, "EC_P256",
                keySha256, now, now.plusSeconds(60), now, null, new byte[] {0x30, 0x00});
    }

    private static Enrollment usedToken(TestCsrs.Csr csr) {
        Enrollment e = request(csr.pem().getBytes());
        new EnrollmentStages.DecodeCsr().apply(e);
        e.token = new EnrollmentTokens.Token(1, "dev-1", "device", List.of(), Instant.now().minusSeconds(1),
                Instant.now().minusSeconds(30), 9L);
        e.deviceId = "dev-1";
        return e;
    }

    @Test
    void tokenRetryWhenSameKeyThenTheEarlierCertificateAndNoFurtherStages() {
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        CertificateStore store = mock(CertificateStore.class);
        Certificate before = earlier(dev.trent.pki.Hashes.sha256Hex(csr.keys().getPublic().getEncoded()),
                CertificateStatus.ISSUED);
        when(store.byId(9L)).thenReturn(Optional.of(before));
        Enrollment e = usedToken(csr);
        List<Enrollment> proved = new java.util.ArrayList<>();

        EnrollmentStage.run(List.of(new EnrollmentStages.TokenRetry(store, proved::add), x -> {
            throw new AssertionError("a retry must not reach the next stage");
        }), e);

        // The flow's proof-of-possession stage ran on the retry's CSR before the answer.
        assertThat(proved).containsExactly(e);
        assertThat(e.answer.created()).isFalse();
        assertThat(e.answer.certificate().serial()).isEqualTo("abc");
    }

    @Test
    void tokenRetryWhenAnotherKeyOrRevokedThenEnrollmentTokenUsed() {
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        CertificateStore store = mock(CertificateStore.class);
        when(store.byId(9L)).thenReturn(Optional.of(earlier("00".repeat(32), CertificateStatus.ISSUED)));
        // Another key: 409 without the proof of possession (a bad CSR signature does not change the answer).
        EnrollmentStage failingPop = x -> {
            throw new AssertionError("no proof of possession for another key");
        };
        assertThatThrownBy(() -> new EnrollmentStages.TokenRetry(store, failingPop).apply(usedToken(csr)))
                .satisfies(t -> assertThat(type(t)).endsWith("enrollment-token-used"))
                .hasMessageContaining("another key");

        when(store.byId(9L)).thenReturn(Optional.of(earlier(dev.trent.pki.Hashes.sha256Hex(
                csr.keys().getPublic().getEncoded()), CertificateStatus.REVOKED)));
        assertThatThrownBy(() -> new EnrollmentStages.TokenRetry(store, failingPop).apply(usedToken(csr)))
                .hasMessageContaining("revoked");
    }

    @Test
    void tokenRetryWhenTokenUnusedThenNothingDecided() {
        Enrollment e = usedToken(TestCsrs.ecP256("x"));
        e.token = new EnrollmentTokens.Token(1, "dev-1", "device", List.of(), Instant.now().plusSeconds(60), null,
                null);
        new EnrollmentStages.TokenRetry(mock(CertificateStore.class), new EnrollmentStages.ProofOfPossession())
                .apply(e);
        assertThat(e.answer).isNull();
    }

    @Test
    void generateKeyWhenProfileAllowsOnlyP384ThenP384AndWhenNoEcTypeThenKeyRefused() {
        Enrollment e = usedToken(TestCsrs.ecP256("x"));
        e.auditDetails.put("tokenId", 1L);
        e.profile = profile(Set.of(KeyType.EC_P384, KeyType.RSA));
        new EnrollmentStages.GenerateKey(new SecureRandom()).apply(e);
        assertThat(e.keyType).isEqualTo(KeyType.EC_P384);
        assertThat(((java.security.interfaces.ECPublicKey) e.generated.getPublic()).getParams().getOrder().bitLength())
                .isEqualTo(384);
        assertThat(e.auditDetails.keySet()).containsExactly("keyGeneratedBy", "tokenId");

        Enrollment rsa = usedToken(TestCsrs.ecP256("x"));
        rsa.profile = profile(Set.of(KeyType.RSA));
        assertThatThrownBy(() -> new EnrollmentStages.GenerateKey(new SecureRandom()).apply(rsa))
                .satisfies(t -> assertThat(type(t)).endsWith("key-refused"));
    }

    @Test
    void tokenUnusedWhenTokenWasUsedThenConflict() {
        assertThatThrownBy(() -> new EnrollmentStages.TokenUnused().apply(usedToken(TestCsrs.ecP256("x"))))
                .isInstanceOfSatisfying(DomainException.class,
                        p -> assertThat(ProblemException.of(p).status().value()).isEqualTo(409));
    }

    @Test
    void currentCertificateWhenNonePresentedThen401WithTheEstChallengeWhereTokensGetBearer() {
        assertThatThrownBy(() -> new EnrollmentStages.CurrentCertificate(mock(CertificateStore.class))
                .apply(request(new byte[0]))).isInstanceOfSatisfying(DomainException.class, d -> {
                    ProblemException p = ProblemException.of(d);
                    assertThat(p.status().value()).isEqualTo(401);
                    assertThat(p.type()).isEqualTo("client-certificate-required");
                    assertThat(p.challenge()).isEqualTo("Basic realm=\"trent-est\"");
                });
        ProblemException token = ProblemException.of(EnrollmentProblems.tokenInvalid("unknown"));
        assertThat(token.status().value()).isEqualTo(401);
        assertThat(token.challenge()).isEqualTo("Bearer");
    }
}
