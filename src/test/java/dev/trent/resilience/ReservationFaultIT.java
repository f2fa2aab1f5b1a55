package dev.trent.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.support.IntegrationTest;

/**
 * The durable reservation under a real crash: Trent in a child JVM, with a signature journal (a
 * test stand-in for an HSM's audit log, forced to disk before each signature is returned), is
 * killed with {@code kill -9} under enrollment load. After a restart: every certificate a client
 * received is ISSUED with the DER it received and the hash of its TBS; every signature the key
 * produced has a row (none unaccounted for); the reservations the crash interrupted are swept to
 * ABANDONED, and none is ever served as good.
 */
class ReservationFaultIT {

    private static final String ADMIN = IntegrationTest.ADMIN_KEY;

    @TempDir
    Path tmp;

    @Test
    void jvmKilledBetweenReservationAndCommitThenEverySignatureIsAccountedFor() throws Exception {
        Assumptions.assumeFalse(IntegrationTest.pkcs11Run(), "runs once, in the keystore pass");
        Path data = tmp.resolve("data");
        Path journal = tmp.resolve("signatures.journal");
        List<String> settings = List.of("--trent.issuance.pending-timeout=30s", "--trent.issuance.sweep-interval=2s");
        List<DatabaseFaultIT.Attempt> attempts;
        try (DatabaseFaultIT.ChildTrent first = DatabaseFaultIT.ChildTrent.start(data, tmp.resolve("first.log"), journal,
                settings)) {
            attempts = DatabaseFaultIT.enrollThenKill(first, "reserve-", 150, 6, 25);
        }
        List<String> signed = Files.readAllLines(journal, StandardCharsets.US_ASCII).stream()
                .filter(l -> !l.isBlank()).toList();
        assertThat(signed).as("the journal saw the signatures").isNotEmpty();

        try (DatabaseFaultIT.ChildTrent second = DatabaseFaultIT.ChildTrent.start(data, tmp.resolve("second.log"),
                journal, settings);
                Connection db = connect(data)) {
            Map<String, String> statusByTbs = new HashMap<>();
            try (PreparedStatement ps = db.prepareStatement("select tbs_sha256, status from certificate "
                    + "where device_id like 'reserve-%'"); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    statusByTbs.put(rs.getString(1), rs.getString(2));
                }
            }
            // Every signature made before the kill has its reservation (the journal was forced to
            // disk before the signature left the signer; the reservation committed before that).
            long interrupted = 0;
            for (String hash : signed) {
                if (statusByTbs.containsKey(hash)) {
                    interrupted += statusByTbs.get(hash).equals("ISSUED") ? 0 : 1;
                }
            }
            List<String> deviceSignatures = signed.stream().filter(statusByTbs::containsKey).toList();
            // The rest are Trent's own certificates (its TLS listener's, its OCSP responder's):
            // reserved the same way.
            long unaccounted = signed.stream().filter(h -> !statusByTbs.containsKey(h))
                    .filter(h -> count(db, "select count(*) from certificate where tbs_sha256 = '" + h + "'") == 0)
                    .count();
            assertThat(unaccounted).as("signatures without a certificate row").isZero();
            // Every certificate a client received: ISSUED, with the DER it received and its TBS hash.
            int received = 0;
            for (DatabaseFaultIT.Attempt a : attempts) {
                if (a.certificate() == null) {
                    continue;
                }
                received++;
                X509Certificate cert = a.certificate();
                try (PreparedStatement ps = db.prepareStatement("select status, der, tbs_sha256 from certificate "
                        + "where serial = ?")) {
                    ps.setString(1, cert.getSerialNumber().toString(16));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertThat(rs.next()).as("certificate %s received before the kill is known",
                                cert.getSerialNumber().toString(16)).isTrue();
                        assertThat(rs.getString(1)).isEqualTo("ISSUED");
                        assertThat(rs.getBytes(2)).isEqualTo(cert.getEncoded());
                        assertThat(rs.getString(3)).isEqualTo(sha256(cert.getTBSCertificate()));
                    }
                }
            }
            // The reservations the crash interrupted are swept to ABANDONED (pending-timeout 30 s here).
            DatabaseFaultIT.await("no reservation stays PENDING", () -> count(db,
                    "select count(*) from certificate where device_id like 'reserve-%' and status = 'PENDING'") == 0);
            assertThat(count(db, "select count(*) from certificate where device_id like 'reserve-%' and status not in "
                    + "('ISSUED', 'ABANDONED')")).isZero();
            assertThat(count(db, "select count(*) from certificate c where status = 'ABANDONED' and (der is not null "
                    + "or exists (select 1 from enrollment_token t where t.certificate_id = c.id))"))
                    .as("abandoned: no DER, no token").isZero();
            System.out.printf("ReservationFaultIT: %d certificates received before kill -9; %d device signatures in "
                    + "the journal, %d of them interrupted before the commit (now %s)%n", received,
                    deviceSignatures.size(), interrupted, count(db, "select count(*) from certificate where "
                            + "device_id like 'reserve-%' and status = 'ABANDONED'") + " abandoned");
        }
    }

    private static long count(Connection db, String sql) {
        try (PreparedStatement ps = db.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The embedded PostgreSQL of {@code data}: its port from postmaster.pid, its password from its file. */
    private static Connection connect(Path data) throws Exception {
        List<String> pid = Files.readAllLines(data.resolve("postgres/postmaster.pid"));
        String password = Files.readString(data.resolve("postgres.password")).strip();
        return DriverManager.getConnection("jdbc:postgresql://localhost:" + pid.get(3).strip() + "/postgres",
                "postgres", password);
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
