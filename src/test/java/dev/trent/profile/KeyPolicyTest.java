package dev.trent.profile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.api.Test;

import dev.trent.support.TestCsrs;

class KeyPolicyTest {

    static CertificateProfile profile(Set<KeyType> types, int rsaMin) {
        return new CertificateProfile("p", Duration.ofDays(1), types, rsaMin, List.of(KeyUsageName.digitalSignature),
                List.of(ExtendedKeyUsageName.clientAuth), false, false, 0);
    }

    private static KeyPolicy.Verdict check(CertificateProfile p, TestCsrs.Csr csr) {
        return KeyPolicy.check(p, SubjectPublicKeyInfo.getInstance(csr.keys().getPublic().getEncoded()),
                csr.keys().getPublic());
    }

    @Test
    void checkWhenEcCurvesAllowedThenClassified() {
        CertificateProfile p = profile(Set.of(KeyType.EC_P256, KeyType.EC_P384), 2048);
        assertThat(check(p, TestCsrs.ecP256("a")).keyType()).isEqualTo(KeyType.EC_P256);
        assertThat(check(p, TestCsrs.ecP384("a")).keyType()).isEqualTo(KeyType.EC_P384);
    }

    @Test
    void checkWhenRsaNotAllowedThenRefusalNamesWhatIs() {
        KeyPolicy.Verdict v = check(profile(Set.of(KeyType.EC_P256), 2048), TestCsrs.rsa(2048, "a"));
        assertThat(v.accepted()).isFalse();
        assertThat(v.refusal()).contains("RSA").contains("allows: EC P-256");
    }

    @Test
    void checkWhenRsaBelowProfileMinimumThenRefused() {
        CertificateProfile p = profile(Set.of(KeyType.RSA), 3072);
        KeyPolicy.Verdict v = check(p, TestCsrs.rsa(2048, "a"));
        assertThat(v.accepted()).isFalse();
        assertThat(v.refusal()).contains("2048 bits is too small").contains("3072 bits or more");
        assertThat(check(profile(Set.of(KeyType.RSA), 2048), TestCsrs.rsa(2048, "a")).keyType()).isEqualTo(KeyType.RSA);
    }

    @Test
    void checkWhenP384NotAllowedThenRefused() {
        KeyPolicy.Verdict v = check(profile(Set.of(KeyType.EC_P256), 2048), TestCsrs.ecP384("a"));
        assertThat(v.accepted()).isFalse();
        assertThat(v.refusal()).startsWith("EC P-384 keys are not allowed");
    }

    @Test
    void profileWhenKeyUsageNotPermittedForAnAllowedKeyTypeThenRejected() {
        assertThatThrownBy(() -> new CertificateProfile("p", Duration.ofDays(1), Set.of(KeyType.EC_P256), 2048,
                List.of(KeyUsageName.digitalSignature, KeyUsageName.dataEncipherment),
                List.of(ExtendedKeyUsageName.clientAuth), false, false, 0))
                .hasMessageContaining("dataEncipherment is not permitted for EC P-256");
        assertThatThrownBy(() -> new CertificateProfile("p", Duration.ofDays(1), Set.of(KeyType.ED25519), 2048,
                List.of(KeyUsageName.keyAgreement), List.of(ExtendedKeyUsageName.clientAuth), false, false, 0))
                .hasMessageContaining("keyAgreement is not permitted for Ed25519");
        assertThatThrownBy(() -> new CertificateProfile("p", Duration.ofDays(1), Set.of(KeyType.RSA), 2048,
                List.of(KeyUsageName.keyAgreement), List.of(ExtendedKeyUsageName.clientAuth), false, false, 0))
                .hasMessageContaining("keyAgreement is not permitted for RSA");
        assertThat(new CertificateProfile("p", Duration.ofDays(1), Set.of(KeyType.RSA), 2048,
                List.of(KeyUsageName.digitalSignature, KeyUsageName.keyEncipherment),
                List.of(ExtendedKeyUsageName.serverAuth), false, false, 0).keyUsage()).hasSize(2);
    }

    @Test
    void checkWhenRsaExponentIsNot65537ThenRefused() throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("RSA");
        g.initialize(new java.security.spec.RSAKeyGenParameterSpec(2048, java.math.BigInteger.valueOf(3)));
        TestCsrs.Csr csr = TestCsrs.forKey(g.generateKeyPair(), "e3");
        KeyPolicy.Verdict v = check(profile(Set.of(KeyType.RSA), 2048), csr);
        assertThat(v.accepted()).isFalse();
        assertThat(v.refusal()).contains("exponent must be 65537");
    }

    @Test
    void profileWhenInvalidThenRejectedAtConfiguration() {
        assertThatThrownBy(() -> profile(Set.of(), 2048)).hasMessageContaining("at least one key type");
        assertThatThrownBy(() -> profile(Set.of(KeyType.RSA), 1024)).hasMessageContaining("at least 2048");
        assertThatThrownBy(() -> new CertificateProfile("p", Duration.ZERO, Set.of(KeyType.EC_P256), 2048,
                List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.clientAuth), false, false, 0))
                .hasMessageContaining("validity must be positive");
        assertThatThrownBy(() -> new CertificateProfile("p", Duration.ofDays(1), Set.of(KeyType.EC_P256), 2048,
                List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.clientAuth), false, true, 1))
                .hasMessageContaining("required but not allowed");
    }
}
