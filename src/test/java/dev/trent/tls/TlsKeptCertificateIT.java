package dev.trent.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.support.IntegrationTest;
import dev.trent.support.MovableClock;
import dev.trent.support.TrentApp;

/**
 * Trent's own HTTPS certificate outlives a restart until its renewal is due (issue 14): the key
 * and chain are kept in the data directory, reused while in the first half of their validity,
 * and replaced at half-life, on a running listener and at a start. Time moves by the clock.
 */
class TlsKeptCertificateIT {

    @TempDir
    Path dir;

    private final MovableClock clock = new MovableClock();

    private TrentApp start() {
        return TrentApp.start(Map.of("trent.data-dir", dir.resolve("data").toString(),
                "trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY, "trent.tls.validity", "10d"), clock);
    }

    private static BigInteger serial(TrentApp app) {
        return app.context().getBean(TlsServer.class).chain().get(0).getSerialNumber();
    }

    private static int tlsRows(TrentApp app) {
        return app.jdbc().queryForObject("select count(*) from certificate where profile = 'tls-server'", Integer.class);
    }

    @Test
    void restartWhenRenewalIsNotDueThenTheSameCertificateServesAndTheInventoryHoldsOneRow() throws Exception {
        BigInteger first;
        try (TrentApp app = start()) {
            first = serial(app);
        }
        Path key = dir.resolve("data/tls/key.pem");
        assertThat(key).exists();
        if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        }

        try (TrentApp app = start()) {
            assertThat(serial(app)).isEqualTo(first);
        }
        try (TrentApp app = start()) {
            assertThat(serial(app)).isEqualTo(first);
            assertThat(tlsRows(app)).isEqualTo(1);
        }

        clock.advance(Duration.ofDays(6)); // past half of 10 days
        try (TrentApp app = start()) {
            assertThat(serial(app)).as("a start past half-life issues a new certificate").isNotEqualTo(first);
            assertThat(tlsRows(app)).isEqualTo(2);
        }
    }

    @Test
    void runningListenerWhenHalfLifePassesThenItRenewsThenAndNotBefore() throws Exception {
        try (TrentApp app = start()) {
            TlsServer tls = app.context().getBean(TlsServer.class);
            BigInteger first = serial(app);

            clock.advance(Duration.ofDays(4)); // before half of 10 days
            tls.renewIfDue();
            assertThat(serial(app)).isEqualTo(first);

            clock.advance(Duration.ofDays(1).plusMinutes(1)); // past it
            tls.renewIfDue();
            assertThat(serial(app)).isNotEqualTo(first);
            assertThat(tlsRows(app)).isEqualTo(2);
        }
    }

    @Test
    void restartWhenTheKeptCertificateWasRevokedThenANewOneIsIssued() throws Exception {
        BigInteger first;
        try (TrentApp app = start()) {
            first = serial(app);
            dev.trent.support.TrentClient.Response r = app.client().postJson("/api/v1/certificates/"
                    + first.toString(16) + "/revoke", IntegrationTest.ADMIN_KEY, Map.of("reason", "superseded"));
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
        }
        try (TrentApp app = start()) {
            assertThat(serial(app)).isNotEqualTo(first);
        }
    }
}
