package dev.trent.est;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.MovableClock;
import dev.trent.support.Openssl;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import dev.trent.tls.TlsServer;

/**
 * The profile settings of renewal, with profiles of their own: {@code renewal-grace} lets an
 * expired (unrevoked) certificate renew for a while and refuses it without one;
 * {@code revoke-on-renew} revokes the old certificate as superseded. Expiry is reached by moving
 * Trent's clock, not by waiting.
 */
class RenewalPolicyIT {

    @TempDir
    static Path shared;

    @TempDir
    Path dir;

    private static TrentApp app;
    private static final MovableClock clock = new MovableClock();

    @BeforeAll
    static void start() {
        Openssl.assumeAvailable();
        Map<String, String> s = new HashMap<>();
        s.put("trent.data-dir", shared.resolve("data").toString());
        s.put("trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY);
        s.put("trent.issuance.backdate", "0s");
        s.put("trent.profiles.brief.validity", "1h");
        s.put("trent.profiles.brief.renewal-grace", "1d");
        s.put("trent.profiles.strict.validity", "1h");
        s.put("trent.profiles.rotating.validity", "1d");
        s.put("trent.profiles.rotating.revoke-on-renew", "true");
        app = TrentApp.start(s, clock);
    }

    @org.junit.jupiter.api.AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    /** Enrolls an openssl key under {@code profile}; writes key.pem, cert.pem, root.pem, renew.csr (same subject). */
    private String enroll(String profile) throws Exception {
        TrentClient c = app.client();
        String device = profile + "-" + System.nanoTime();
        Openssl.ok(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                "/CN=" + device, "-keyout", "key.pem", "-out", "renew.csr");
        TrentClient.Response r = c.enroll(c.token(IntegrationTest.ADMIN_KEY, device, profile, null),
                "application/x-pem-file", Files.readAllBytes(dir.resolve("renew.csr")), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        Files.writeString(dir.resolve("cert.pem"), Pem.certificates(r.certificates().subList(0, 1)));
        Files.write(dir.resolve("root.pem"), c.get("/api/v1/ca/root", null, null).body());
        return r.certificates().get(0).getSerialNumber().toString(16);
    }

    /** curl with the current certificate to /api/v1/renew; returns "STATUS\nBODY". */
    private String renew() throws Exception {
        int port = app.context().getBean(TlsServer.class).port();
        Process curl = new ProcessBuilder("curl", "-sS", "--cacert", "root.pem", "--cert", "cert.pem", "--key",
                "key.pem", "-H", "Content-Type: application/x-pem-file", "-H", "Accept: application/json",
                "--data-binary", "@renew.csr", "-w", "\n%{http_code}", "https://localhost:" + port + "/api/v1/renew")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor()).as(out).isZero();
        return out;
    }

    @Test
    void expiredCertificateRenewsWithinTheProfilesGrace() throws Exception {
        enroll("brief");
        clock.advance(Duration.ofHours(2)); // an hour past notAfter, within the day of grace

        assertThat(renew()).endsWith("\n201");
    }

    @Test
    void expiredCertificateWithoutGraceIsRefused() throws Exception {
        enroll("strict");
        clock.advance(Duration.ofHours(2)); // an hour past notAfter

        String out = renew();

        assertThat(out).endsWith("\n403").contains("client-certificate-expired");
    }

    @Test
    void revokeOnRenewRevokesTheOldCertificateAsSuperseded() throws Exception {
        String old = enroll("rotating");

        assertThat(renew()).endsWith("\n201");

        List<Map<String, Object>> rows = app.jdbc().queryForList("select status, revocation_reason from certificate "
                + "where serial = ?", old);
        assertThat(rows).singleElement().satisfies(row -> {
            assertThat(row.get("status")).isEqualTo("REVOKED");
            assertThat(row.get("revocation_reason")).isEqualTo("superseded");
        });
    }
}
