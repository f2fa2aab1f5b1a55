package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.URI;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.trent.ca.CaCeremony;
import dev.trent.ca.Issuer;
import dev.trent.ca.KeystoreCaSigner;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;

/**
 * The size bound that {@code max-der-bytes} is checked against: no signed certificate is ever
 * longer than {@link CertificateFactory#maxDerBytes}, and the bound is tight (some signatures
 * reach it), for each kind of issuer key.
 */
class CertificateSizeTest {

    @ParameterizedTest
    @EnumSource(value = KeyType.class, names = {"EC_P256", "EC_P384"})
    void maxDerBytesWhenSignedManyTimesThenNeverExceededAndReached(KeyType issuerKey) throws Exception {
        SecureRandom random = new SecureRandom();
        CaCeremony.Hierarchy ca = new CaCeremony(random, Clock.systemUTC())
                .createHierarchy(issuerKey, "Trent", Duration.ofDays(3650), Duration.ofDays(365));
        Issuer issuer = new Issuer("0123456789abcdef", new KeystoreCaSigner(ca.intermediate().privateKey(),
                ca.intermediate().chain()), URI.create("https://pki.fleet.example:8443/crl/01234567.crl"),
                URI.create("https://pki.fleet.example:8443/ocsp"),
                URI.create("https://pki.fleet.example:8443/ca/01234567.crt"));
        CertificateProfile profile = new CertificateProfile("device", Duration.ofDays(365), Set.of(KeyType.EC_P256),
                2048, List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.clientAuth), false, false,
                0, true, false, 600);
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        SubjectPublicKeyInfo key = SubjectPublicKeyInfo.getInstance(g.generateKeyPair().getPublic().getEncoded());
        Instant now = Instant.now();
        // A serial with its top bit set: the 17-octet encoding, the longest Trent writes.
        BigInteger serial = BigInteger.ONE.shiftLeft(127).add(BigInteger.valueOf(random.nextInt(1 << 30)));
        CertificateTemplate t = new CertificateTemplate(issuer, profile, serial, "sensor--0123abcd", List.of(), key,
                KeyType.EC_P256, now, now.plus(Duration.ofDays(365)));

        int bound = CertificateFactory.maxDerBytes(t);
        int longest = 0;
        for (int i = 0; i < 200; i++) {
            longest = Math.max(longest, CertificateFactory.sign(t).getEncoded().length);
        }

        assertThat(longest).isLessThanOrEqualTo(bound);
        // r and s both need their leading zero octet in a quarter of signatures: 200 reach it.
        assertThat(longest).isEqualTo(bound);
    }
}
