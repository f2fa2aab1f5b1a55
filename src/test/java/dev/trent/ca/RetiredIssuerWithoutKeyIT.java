package dev.trent.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.trent.config.TrentProperties;
import dev.trent.support.IntegrationTest;

/**
 * A retired issuer that still has unexpired certificates but whose key is gone: listed by
 * {@link IssuerRegistry#retiredWithoutKey}, an ERROR at start by default, a refused start with
 * {@code trent.ca.retired-issuer-without-key=fail}; expired certificates or a key that is here
 * do not count.
 */
class RetiredIssuerWithoutKeyIT extends IntegrationTest {

    @Autowired
    private IssuerRegistry issuers;

    @Test
    void retiredIssuerWhenKeyMissingAndCertificatesUnexpiredThenReportedAndFailPolicyRefuses() throws Exception {
        assertThat(issuers.retiredWithoutKey()).as("every issuer of this instance has its key").isEmpty();
        issuers.checkRetiredKeys(TrentProperties.RetiredKeyPolicy.FAIL);

        KeyPair keys = generate(KeyPairGenerator.getInstance("EC"));
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        byte[] der = new JcaX509v3CertificateBuilder(new X500Name("CN=Gone Intermediate"), BigInteger.TEN,
                Date.from(now.minusSeconds(3600)), Date.from(now.plusSeconds(86400 * 30L)),
                new X500Name("CN=Gone Intermediate"), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
        String id = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-1").digest(der));
        String device = deviceId("orphan");
        try {
            jdbc.update("insert into issuer (id, subject_dn, certificate_der, not_after, created_at, state, key_label) "
                    + "values (?, 'CN=Gone Intermediate', ?, ?, ?, 'RETIRED', 'gone-key')", id, der,
                    Timestamp.from(now.plusSeconds(86400 * 30L)), Timestamp.from(now.minusSeconds(7200)));
            insertCertificate(id, device, "ee01", now.minusSeconds(60), "ISSUED"); // expired: does not count
            insertCertificate(id, device, "ee02", now.plusSeconds(86400), "ISSUED");
            insertCertificate(id, device, "ee03", now.plusSeconds(86400 * 2L), "REVOKED");
            // Trent's own TLS and OCSP responder certificates are replaced from the active issuer: not counted.
            insertCertificate(id, device, "ee04", now.plusSeconds(86400 * 20L), "ISSUED", "tls-server");
            insertCertificate(id, device, "ee05", now.plusSeconds(86400 * 20L), "ISSUED", "ocsp-responder");

            List<IssuerRegistry.Orphaned> orphaned = issuers.retiredWithoutKey();

            assertThat(orphaned).hasSize(1);
            assertThat(orphaned.get(0).issuerId()).isEqualTo(id);
            assertThat(orphaned.get(0).keyLabel()).isEqualTo("gone-key");
            assertThat(orphaned.get(0).unexpiredCertificates()).isEqualTo(2);
            assertThat(orphaned.get(0).lastNotAfter()).isEqualTo(now.plusSeconds(86400 * 2L));
            issuers.checkRetiredKeys(TrentProperties.RetiredKeyPolicy.WARN); // logs, does not throw
            assertThatThrownBy(() -> issuers.checkRetiredKeys(TrentProperties.RetiredKeyPolicy.FAIL))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(id).hasMessageContaining("gone-key")
                    .hasMessageContaining("2 unexpired certificate(s)")
                    .hasMessageContaining("trent.ca.retired-issuer-without-key");
        } finally {
            jdbc.update("delete from certificate where issuer_id = ?", id);
            jdbc.update("delete from issuer where id = ?", id);
        }
        assertThat(issuers.retiredWithoutKey()).isEmpty();
    }

    private static KeyPair generate(KeyPairGenerator g) throws Exception {
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private void insertCertificate(String issuerId, String device, String serial, Instant notAfter, String status) {
        insertCertificate(issuerId, device, serial, notAfter, status, "device");
    }

    private void insertCertificate(String issuerId, String device, String serial, Instant notAfter, String status,
            String profile) {
        boolean revoked = status.equals("REVOKED");
        jdbc.update("insert into certificate (issuer_id, serial, device_id, profile, subject_dn, dns_names, not_before, "
                + "not_after, key_type, public_key_sha256, status, created_at, der, revoked_at, revocation_reason) "
                + "values (?, ?, ?, ?, ?, '{}', ?, ?, 'EC_P256', ?, ?, ?, ?, ?, ?)", issuerId, serial, device, profile,
                "CN=" + device, Timestamp.from(notAfter.minusSeconds(86400 * 3L)), Timestamp.from(notAfter),
                "ab".repeat(32), status, Timestamp.from(Instant.now()), new byte[] {0x30, 0x00},
                revoked ? Timestamp.from(Instant.now()) : null, revoked ? "superseded" : null);
    }
}
