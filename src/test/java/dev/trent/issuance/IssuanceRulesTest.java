package dev.trent.issuance;

import dev.trent.pki.SerialNumbers;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class IssuanceRulesTest {

    @Test
    void serialWhenGeneratedThenPositiveAtMost17OctetsAndUnique() {
        SerialNumbers serials = new SerialNumbers(new SecureRandom());
        Set<BigInteger> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            BigInteger s = serials.next();
            assertThat(s.signum()).isPositive();
            assertThat(s.toByteArray().length).isLessThanOrEqualTo(17);
            assertThat(seen.add(s)).isTrue();
        }
        // With 128 random bits, some serials use the top bit (and need the 17th, zero, octet).
        assertThat(seen.stream().anyMatch(s -> s.bitLength() == 128)).isTrue();
    }

    @Test
    void serialWhenRandomReturnsZerosThenDrawsAgain() {
        SecureRandom zerosOnce = new SecureRandom() {
            private boolean first = true;

            @Override
            public void nextBytes(byte[] bytes) {
                if (first) {
                    first = false;
                    java.util.Arrays.fill(bytes, (byte) 0);
                } else {
                    java.util.Arrays.fill(bytes, (byte) 7);
                }
            }
        };
        assertThat(new SerialNumbers(zerosOnce).next().signum()).isPositive();
    }

    @Test
    void canonicalWhenColonsOrCaseOrLeadingZerosThenNormalised() {
        assertThat(SerialNumbers.canonical("0A:BC:de")).isEqualTo("abcde");
        assertThat(SerialNumbers.canonical("00ff")).isEqualTo("ff");
        assertThat(SerialNumbers.canonical("xyz")).isNull();
        assertThat(SerialNumbers.canonical("")).isNull();
        assertThat(SerialNumbers.canonical("1".repeat(41))).isNull();
    }

    @Test
    void dnsNameWhenCheckedThenLdhLabelsOnly() {
        assertThat(DnsNames.isValid("gw-1.example.test")).isTrue();
        assertThat(DnsNames.isValid("localhost")).isTrue();
        assertThat(DnsNames.isValid(DnsNames.normalize(" MQTT.Example.COM "))).isTrue();
        assertThat(DnsNames.isValid("*.example.com")).isFalse();
        assertThat(DnsNames.isValid("-bad.example.com")).isFalse();
        assertThat(DnsNames.isValid("bad-.example.com")).isFalse();
        assertThat(DnsNames.isValid("a..b")).isFalse();
        assertThat(DnsNames.isValid("example.com.")).isFalse();
        assertThat(DnsNames.isValid("10.0.0.1")).isFalse();
        assertThat(DnsNames.isValid("under_score.example")).isFalse();
        assertThat(DnsNames.isValid("a".repeat(64) + ".example")).isFalse();
        assertThat(DnsNames.isValid("Upper.example")).isFalse();
    }

    /** An issuer whose certificate is valid for a year from now (the key signs nothing here). */
    private static dev.trent.ca.Issuer issuer() throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair keys = g.generateKeyPair();
        org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name("CN=lint issuer");
        java.time.Instant now = java.time.Instant.now();
        java.security.cert.X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
                .getCertificate(new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                        java.util.Date.from(now), java.util.Date.from(now.plus(java.time.Duration.ofDays(365))), name,
                        keys.getPublic()).build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(
                                "SHA256withECDSA").build(keys.getPrivate())));
        dev.trent.ca.CaSigner signer = new dev.trent.ca.CaSigner() {
            @Override
            public java.util.List<java.security.cert.X509Certificate> chain() {
                return java.util.List.of(cert);
            }

            @Override
            public org.bouncycastle.operator.ContentSigner contentSigner() {
                throw new UnsupportedOperationException();
            }
        };
        return new dev.trent.ca.Issuer("lint", signer, null, null, null);
    }

    @Test
    void tlsServerLintWhenNamesOrWindowAreWrongThenRefusedAndOtherwiseAccepted() throws Exception {
        dev.trent.ca.Issuer issuer = issuer();
        java.time.Instant now = java.time.Instant.now();
        java.time.Instant in30d = now.plus(java.time.Duration.ofDays(30));
        java.util.List<String> ips = java.util.List.of("127.0.0.1", "::1");

        PreSigningLinter.lintTlsServer(BigInteger.TEN, now, in30d, issuer, java.util.List.of("localhost"), ips);

        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> PreSigningLinter.lintTlsServer(BigInteger.TEN,
                now, in30d, issuer, java.util.List.of("*.example.com"), ips))).hasMessageContaining("invalid DNS name");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> PreSigningLinter.lintTlsServer(BigInteger.TEN,
                now, in30d, issuer, java.util.List.of(), java.util.List.of()))).hasMessageContaining("at least one");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> PreSigningLinter.lintTlsServer(BigInteger.TEN,
                now, now.plus(java.time.Duration.ofDays(400)), issuer, java.util.List.of("localhost"), ips)))
                .hasMessageContaining("outlive its issuer");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> PreSigningLinter.lintTlsServer(BigInteger.TEN,
                now, in30d, issuer, java.util.List.of("localhost"), java.util.List.of("not-an-ip"))))
                .hasMessageContaining("invalid IP address");
    }
}
