package dev.trent.resilience;

import static dev.trent.resilience.DatabaseFaultIT.assertUnavailable;
import static dev.trent.resilience.DatabaseFaultIT.await;
import static dev.trent.resilience.DatabaseFaultIT.enroll;
import static dev.trent.resilience.DatabaseFaultIT.pidOf;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * Trent on an external PostgreSQL ({@code spring.datasource.url}; here a second PostgreSQL that
 * Trent does not own or supervise), which goes away twice: stopped (a fast shutdown, as an
 * operator's restart does) and killed with {@code kill -9}. Meanwhile requests answer 503
 * problem+json with Retry-After within the configured timeouts (the client's 20 s bound fails a
 * hang), readiness 503; when the server is back on the same address, Trent carries on by itself
 * and nothing it stored is lost.
 *
 * <p>Runs once (not in the pkcs11 pass): the signer plays no part.
 */
class ExternalDatabaseFaultIT {

    private static final String ADMIN = IntegrationTest.ADMIN_KEY;

    @TempDir
    Path tmp;

    @Test
    void externalPostgresStoppedOrKilledThenAnswers503AndRecoversWhenItIsBack() throws Exception {
        Assumptions.assumeFalse(IntegrationTest.pkcs11Run(), "the signer plays no part: runs in the keystore pass");
        Path pgData = tmp.resolve("external-pg");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        EmbeddedPostgres pg = startPostgres(pgData, port);
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("trent.data-dir", tmp.resolve("data").toString());
        settings.put("trent.bootstrap-admin-token", ADMIN);
        settings.put("spring.datasource.url", "jdbc:postgresql://localhost:" + port + "/postgres");
        settings.put("spring.datasource.username", "postgres");
        settings.put("spring.datasource.password", "");
        settings.put("trent.database.connect-timeout", "2s");
        settings.put("trent.database.statement-timeout", "3s");
        try (TrentApp app = TrentApp.start(settings)) {
            assertThat(app.context().containsBean("embeddedPostgres")).as("no embedded PostgreSQL").isFalse();
            // Without the configured timeouts a request would wait 30 s for a connection; 20 s fails that.
            TrentClient client = app.client().withTimeout(Duration.ofSeconds(20));
            X509Certificate before = enroll(client, "external-before");
            String path = "/api/v1/certificates/" + before.getSerialNumber().toString(16);
            for (String fault : List.of("fast shutdown", "kill -9")) {
                if (fault.equals("kill -9")) {
                    long pid = pidOf(pgData.resolve("postmaster.pid"));
                    ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
                    assertThat(new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start().waitFor())
                            .isZero();
                    postmaster.onExit().get(60, TimeUnit.SECONDS);
                }
                closeQuietly(pg); // the fast shutdown; after kill -9, only zonky's lock is released
                for (int i = 0; i < 3; i++) {
                    TrentClient.Response ready = client.get("/actuator/health/readiness", null, null);
                    assertThat(ready.status()).as("readiness after %s: %s", fault, ready).isEqualTo(503);
                    assertUnavailable(client.get(path, ADMIN, null));
                    assertUnavailable(client.enroll("trent_et_unknown-token-while-down", "application/pkcs10",
                            TestCsrs.ecP256("x").der(), null));
                }
                pg = startPostgres(pgData, port);
                await("Trent is ready again once its PostgreSQL is back after " + fault, () -> {
                    TrentClient.Response r = client.get("/actuator/health/readiness", null, null);
                    assertThat(r.status()).as("readiness while PostgreSQL comes back: %s", r).isIn(200, 503);
                    return r.status() == 200;
                });
                TrentClient.Response known = client.get(path, ADMIN, "application/pkix-cert");
                assertThat(known.status()).as(known.toString()).isEqualTo(200);
                assertThat(known.certificates().get(0)).isEqualTo(before);
                assertThat(enroll(client, "external-after-" + fault.replace(' ', '-'))).isNotNull();
            }
        } finally {
            closeQuietly(pg);
        }
    }

    /** A PostgreSQL of its own on this data directory and port, kept between starts. */
    private static EmbeddedPostgres startPostgres(Path dir, int port) throws Exception {
        IOException last = null;
        for (int attempt = 0; attempt < 20; attempt++) {
            try {
                return EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).setPort(port)
                        .start();
            } catch (IOException e) {
                // After kill -9: backends of the killed postmaster may still hold its shared memory.
                last = e;
                Thread.sleep(500);
            }
        }
        throw last;
    }

    private static void closeQuietly(EmbeddedPostgres pg) {
        try {
            pg.close();
        } catch (IOException e) {
            // already stopped (killed): the lock is released regardless
        }
    }
}
