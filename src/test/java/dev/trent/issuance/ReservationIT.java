package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.inventory.CertificateReservations;
import dev.trent.inventory.CertificateStore;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/**
 * The durable reservation: a certificate's row (serial, the hash of the exact TBSCertificate) is
 * committed before anything is signed; a reservation whose issuance does not complete becomes
 * ABANDONED (at the rollback, or by the sweeper after a crash) and is never served as good.
 */
class ReservationIT extends IntegrationTest {

    @Autowired
    private CertificateReservations store;

    @Autowired
    private CertificateStore certificates;

    @Autowired
    private ReservationSweeper sweeper;

    @Autowired
    private TransactionTemplate tx;

    @Test
    void enrollThenTheRowCarriesTheHashOfTheSignedTbs() throws Exception {
        TrentClient c = client();
        String device = deviceId("tbs");
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        X509Certificate cert = r.certificates().get(0);

        String tbsHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getTBSCertificate()));
        assertThat(jdbc.queryForObject("select tbs_sha256 from certificate where serial = ?", String.class,
                cert.getSerialNumber().toString(16))).isEqualTo(tbsHash);
    }

    @Test
    void reservationWhenCommittedThenVisibleOutsideTheIssuingTransactionBeforeItCommits() {
        String serial = "7e" + HexFormat.of().formatHex(new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
        String device = deviceId("visible");
        tx.executeWithoutResult(status -> {
            long id = store.reserve(pending(serial, device, Instant.now()));
            // Another connection sees it while this transaction is still open: it is durable
            // before the signature that would follow.
            assertThat(new org.springframework.jdbc.core.JdbcTemplate(
                    new org.springframework.jdbc.datasource.SingleConnectionDataSource(
                            jdbcUrl(), username(), password(), true))
                    .queryForObject("select status from certificate where id = ?", String.class, id))
                    .isEqualTo("PENDING");
            status.setRollbackOnly();
        });
    }

    @Test
    void pendingReservationThenOcspUnknownAndNotListed_sweptThenAbandonedAndOcspRevokedAsNonIssued() throws Exception {
        String serial = "7f" + HexFormat.of().formatHex(java.util.UUID.randomUUID().toString().getBytes(), 0, 8);
        String device = deviceId("swept");
        long id = store.reserve(pending(serial, device, Instant.now()));
        // Reserved 10 minutes ago by the database's clock (the one the sweeper goes by).
        jdbc.update("update certificate set reserved_at = now() - interval '10 minutes' where id = ?", id);
        X509Certificate issuer = client().get("/api/v1/ca/chain", null, null).certificates().get(0);
        BigInteger number = new BigInteger(serial, 16);

        // In progress: unknown (and not remembered), absent from the inventory.
        assertThat(single(issuer, number).getCertStatus()).isInstanceOf(UnknownStatus.class);
        assertThat(client().get("/api/v1/certificates/" + serial, ADMIN_KEY, null).status()).isEqualTo(404);

        List<String> swept = sweeper.sweep();

        assertThat(swept).contains(serial);
        assertThat(jdbc.queryForObject("select status from certificate where id = ?", String.class, id))
                .isEqualTo("ABANDONED");
        // Audited once, with what the row says, in the sweep's own transaction.
        assertThat(jdbc.queryForList("select actor || ' ' || (details ->> 'deviceId') || ' ' || (details ->> 'profile') "
                + "from audit_event where action = 'certificate.abandoned' and subject = ?", String.class, serial))
                .containsExactly("system " + device + " device");
        // RFC 6960 2.2: revoked, certificateHold, 1970-01-01, and the extended revoked definition.
        BasicOCSPResp basic = basic(issuer, number);
        SingleResp answer = basic.getResponses()[0];
        assertThat(answer.getCertStatus()).isInstanceOf(RevokedStatus.class);
        RevokedStatus revoked = (RevokedStatus) answer.getCertStatus();
        assertThat(revoked.getRevocationTime().toInstant()).isEqualTo(Instant.EPOCH);
        assertThat(revoked.getRevocationReason()).isEqualTo(CRLReason.certificateHold);
        assertThat(basic.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp.branch("9"))).isNotNull();
        // Never listed, never served, never revocable, and the serial is never used again.
        assertThat(client().get("/api/v1/certificates/" + serial, ADMIN_KEY, null).status()).isEqualTo(404);
        assertThat(client().get("/api/v1/certificates?deviceId=" + device, ADMIN_KEY, null).json().get("items"))
                .isEmpty();
        assertThat(client().get("/api/v1/certificates?status=ABANDONED", ADMIN_KEY, null).status()).isEqualTo(400);
        assertThat(client().postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY,
                Map.of("reason", "superseded")).status()).isEqualTo(404);
        assertThat(sweeper.sweep()).doesNotContain(serial);
    }

    @Test
    void sweepThenTheMarkPassesSettledRowsAndStopsAtAReservationStillInFlight() {
        long mark = jdbc.queryForObject("select below from certificate_sweep", Long.class);
        String timedOut = "76" + HexFormat.of().formatHex(java.util.UUID.randomUUID().toString().getBytes(), 0, 8);
        long old = store.reserve(pending(timedOut, deviceId("mark-old"), Instant.now()));
        // Every row from the mark to this one as if reserved 30 minutes ago (earlier tests' rows), more
        // than twice the pending timeout: the mark moves only past rows that old.
        jdbc.update("update certificate set reserved_at = now() - interval '30 minutes' where id >= ? and id <= ?",
                mark, old);
        String inFlight = "75" + HexFormat.of().formatHex(java.util.UUID.randomUUID().toString().getBytes(), 0, 8);
        long young = store.reserve(pending(inFlight, deviceId("mark-young"), Instant.now()));

        assertThat(sweeper.sweep()).contains(timedOut).doesNotContain(inFlight);

        long moved = jdbc.queryForObject("select below from certificate_sweep", Long.class);
        assertThat(moved).as("past the abandoned row, not past the one in flight").isGreaterThan(old)
                .isLessThanOrEqualTo(young);
        assertThat(jdbc.queryForObject("select status from certificate where id = ?", String.class, young))
                .isEqualTo("PENDING");

        // Its issuance ends (here: abandoned at a rollback) and time passes: the mark moves past it.
        store.abandon(young);
        jdbc.update("update certificate set reserved_at = now() - interval '30 minutes' where id >= ? and id <= ?",
                moved, young);
        assertThat(sweeper.sweep()).doesNotContain(inFlight); // abandoned already: not audited twice
        assertThat(jdbc.queryForObject("select below from certificate_sweep", Long.class)).isGreaterThan(young);
    }

    @Test
    void sweepWhenReservationRecentThenLeftPending() {
        String serial = "7d" + HexFormat.of().formatHex(java.util.UUID.randomUUID().toString().getBytes(), 0, 8);
        long id = store.reserve(pending(serial, deviceId("recent"), Instant.now()));

        assertThat(sweeper.sweep()).doesNotContain(serial);
        assertThat(jdbc.queryForObject("select status from certificate where id = ?", String.class, id))
                .isEqualTo("PENDING");
        store.abandon(id);
        assertThat(jdbc.queryForObject("select status from certificate where id = ?", String.class, id))
                .isEqualTo("ABANDONED");
    }

    @Test
    void sweepWhenTheReservingInstancesClockLagsThenGoesByTheDatabasesClock() {
        // created_at is the reserving instance's clock, an hour behind here; reserved_at is PostgreSQL's.
        String serial = "7b" + HexFormat.of().formatHex(java.util.UUID.randomUUID().toString().getBytes(), 0, 8);
        long id = store.reserve(pending(serial, deviceId("skewed"), Instant.now().minus(java.time.Duration.ofHours(1))));

        assertThat(sweeper.sweep()).doesNotContain(serial);
        assertThat(jdbc.queryForObject("select status from certificate where id = ?", String.class, id))
                .isEqualTo("PENDING");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'certificate.abandoned' "
                + "and subject = ?", Integer.class, serial)).isZero();
        store.abandon(id);
    }

    @Test
    void issuedCertificateWhenStoredThenSweeperNeverTouchesIt() {
        TrentClient c = client();
        String device = deviceId("kept");
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).isEqualTo(201);
        jdbc.update("update certificate set created_at = ?, reserved_at = now() - interval '1 hour' "
                + "where device_id = ?", Timestamp.from(Instant.now().minus(java.time.Duration.ofHours(1))), device);

        sweeper.sweep();

        assertThat(jdbc.queryForObject("select status from certificate where device_id = ?", String.class, device))
                .isEqualTo("ISSUED");
    }

    @Test
    void keyCompromiseWhenAnIssuanceOfTheSameKeyIsInProgressThenItsReservationIsAbandonedAndItsStoreRefused() {
        TrentClient c = client();
        String device = deviceId("blocked");
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).isEqualTo(201);
        String serial = r.certificates().get(0).getSerialNumber().toString(16);
        String keyHash = jdbc.queryForObject("select public_key_sha256 from certificate where serial = ?", String.class,
                serial);
        String inFlightSerial = "7c" + HexFormat.of().formatHex(java.util.UUID.randomUUID().toString().getBytes(), 0, 8);
        String issuerId = jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
        long inFlight = store.reserve(new CertificateStore.Pending(issuerId, inFlightSerial, device, "device",
                "CN=" + device, List.of(), Instant.now(), Instant.now().plusSeconds(3600), "EC_P256", keyHash,
                "22".repeat(32), Instant.now()));

        assertThat(c.postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY,
                Map.of("reason", "keyCompromise")).status()).isEqualTo(200);

        assertThat(jdbc.queryForObject("select status from certificate where id = ?", String.class, inFlight))
                .isEqualTo("ABANDONED");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> tx.executeWithoutResult(
                status -> store.storeSigned(inFlight, new byte[] {0x30, 0x00}, "22".repeat(32), null, Instant.now(),
                        CertificateStore.KeyBlockedException::new)))
                .isInstanceOf(CertificateStore.KeyBlockedException.class);
        assertThat(jdbc.queryForObject("select der is null from certificate where id = ?", Boolean.class, inFlight))
                .isTrue();
    }

    @Test
    void storeWhenTheSignedTbsIsNotTheReservedOneThenNothingStored() {
        String serial = "7a" + HexFormat.of().formatHex(java.util.UUID.randomUUID().toString().getBytes(), 0, 8);
        long id = store.reserve(pending(serial, deviceId("tbs-differs"), Instant.now()));

        // The reservation holds "11..." as the TBS hash; a DER whose TBS hashes otherwise is refused.
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> tx.executeWithoutResult(
                status -> store.storeSigned(id, new byte[] {0x30, 0x00}, "33".repeat(32), null, Instant.now(),
                        CertificateStore.KeyBlockedException::new)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("TBS hash");
        assertThat(jdbc.queryForObject("select status || ' ' || (der is null) from certificate where id = ?",
                String.class, id)).isEqualTo("PENDING true");
        tx.executeWithoutResult(status -> store.storeSigned(id, new byte[] {0x30, 0x00}, "11".repeat(32), null,
                Instant.now(), CertificateStore.KeyBlockedException::new));
        assertThat(jdbc.queryForObject("select status from certificate where id = ?", String.class, id))
                .isEqualTo("ISSUED");
        jdbc.update("delete from certificate where id = ?", id);
    }

    @Test
    void liveWhenNoProfileIsExcludedThenEveryDeliveredCertificateCounts() {
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, deviceId("live"), "device", null),
                "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).isEqualTo(201);
        String issuerId = jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
        Instant now = Instant.now();
        long all = jdbc.queryForObject("select count(*) from certificate where issuer_id = ? and not_after > ? "
                + "and status in ('ISSUED', 'REVOKED')", Long.class, issuerId, Timestamp.from(now));
        long devices = jdbc.queryForObject("select count(*) from certificate where issuer_id = ? and not_after > ? "
                + "and status in ('ISSUED', 'REVOKED') and profile <> 'device'", Long.class, issuerId,
                Timestamp.from(now));

        assertThat(certificates.live(issuerId, now, List.of()).count()).isEqualTo(all).isPositive();
        assertThat(certificates.live(issuerId, now, List.of("device")).count()).isEqualTo(devices).isLessThan(all);
    }

    private CertificateStore.Pending pending(String serial, String device, Instant createdAt) {
        String issuerId = jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
        return new CertificateStore.Pending(issuerId, serial, device, "device", "CN=" + device, List.of(),
                Instant.now(), Instant.now().plusSeconds(3600), "EC_P256", "00".repeat(32), "11".repeat(32), createdAt);
    }

    private String jdbcUrl() {
        return ((com.zaxxer.hikari.HikariDataSource) jdbc.getDataSource()).getJdbcUrl();
    }

    private String username() {
        return ((com.zaxxer.hikari.HikariDataSource) jdbc.getDataSource()).getUsername();
    }

    private String password() {
        return ((com.zaxxer.hikari.HikariDataSource) jdbc.getDataSource()).getPassword();
    }

    private SingleResp single(X509Certificate issuer, BigInteger serial) throws Exception {
        return basic(issuer, serial).getResponses()[0];
    }

    private BasicOCSPResp basic(X509Certificate issuer, BigInteger serial) throws Exception {
        CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                new X509CertificateHolder(issuer.getEncoded()), serial);
        byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
        TrentClient.Response r = client().send("POST", "/ocsp", Map.of("Content-Type", "application/ocsp-request"),
                request);
        assertThat(r.status()).isEqualTo(200);
        OCSPResp resp = new OCSPResp(r.body());
        assertThat(resp.getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
        return (BasicOCSPResp) resp.getResponseObject();
    }
}
