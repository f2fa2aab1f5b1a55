package dev.trent.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * Stopping and starting Trent on the same data directory: the CA it created on first start,
 * the certificates it issued, its embedded PostgreSQL data and its bootstrap admin key all
 * survive, and nothing is created again.
 */
class RestartIT {

    @TempDir
    Path dataDir;

    private Map<String, String> settings(String bootstrapToken) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("trent.data-dir", dataDir.toString());
        // Empty means "not configured" and overrides a TRENT_BOOTSTRAP_ADMIN_TOKEN of the environment.
        s.put("trent.bootstrap-admin-token", bootstrapToken);
        return s;
    }

    private static long count(TrentApp app, String sql, Object... args) {
        Long n = app.jdbc().queryForObject(sql, Long.class, args);
        return n == null ? -1 : n;
    }

    @Test
    void restartWhenSameDataDirThenSameCaAndEarlierCertificateStillListed() throws Exception {
        String chainBefore;
        String rootBefore;
        X509Certificate leaf;
        byte[] intermediateKeystore;
        try (TrentApp first = TrentApp.start(settings(IntegrationTest.ADMIN_KEY))) {
            TrentClient client = first.client();
            String token = client.token(IntegrationTest.ADMIN_KEY, "restart-device-1", "device", null);
            TrentClient.Response r = client.enroll(token, "application/x-pem-file",
                    TestCsrs.ecP256("restart").pem().getBytes(StandardCharsets.US_ASCII), null);
            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            leaf = r.certificates().get(0);
            chainBefore = client.get("/api/v1/ca/chain", null, null).text();
            rootBefore = client.get("/api/v1/ca/root", null, null).text();
            assertThat(count(first, "select count(*) from certificate where device_id = ?", "restart-device-1"))
                    .isEqualTo(1);
        }
        intermediateKeystore = Files.readAllBytes(dataDir.resolve("ca/intermediate.p12"));
        assertThat(dataDir.resolve("postgres/PG_VERSION")).as("PostgreSQL data on disk").isRegularFile();

        try (TrentApp second = TrentApp.start(settings(IntegrationTest.ADMIN_KEY))) {
            TrentClient client = second.client();
            TrentClient.Response chain = client.get("/api/v1/ca/chain", null, null);
            TrentClient.Response root = client.get("/api/v1/ca/root", null, null);
            String serial = leaf.getSerialNumber().toString(16);
            TrentClient.Response listed = client.get("/api/v1/certificates/" + serial, IntegrationTest.ADMIN_KEY,
                    "application/json");

            assertThat(chain.text()).as("same intermediate and root").isEqualTo(chainBefore);
            assertThat(root.text()).isEqualTo(rootBefore);
            assertThat(chain.certificates().get(0)).isEqualTo(
                    client.get("/ca/" + issuerId(chain.certificates().get(0)) + ".crt", null, null).certificates()
                            .get(0));
            assertThat(listed.status()).as(listed.toString()).isEqualTo(200);
            JsonNode json = listed.json();
            assertThat(json.get("serial").asText()).isEqualTo(serial);
            assertThat(json.get("deviceId").asText()).isEqualTo("restart-device-1");
            assertThat(json.get("status").asText()).isEqualTo("ISSUED");
            assertThat(json.get("certificatePem").asText()).isEqualTo(Pem.certificate(leaf));

            // The database is the one from before, not a new one: one migration, one issuer, one key.
            assertThat(count(second, "select count(*) from flyway_schema_history where success")).isEqualTo(1);
            assertThat(count(second, "select count(*) from issuer")).isEqualTo(1);
            assertThat(count(second, "select count(*) from api_key")).isEqualTo(1);
            assertThat(count(second, "select count(*) from enrollment_token where device_id = ? and used_at is not null",
                    "restart-device-1")).isEqualTo(1);
        }
        assertThat(Files.readAllBytes(dataDir.resolve("ca/intermediate.p12"))).as("CA files untouched")
                .isEqualTo(intermediateKeystore);
    }

    @Test
    void startWhenNoBootstrapTokenThenKeySavedOwnerOnlyOnceAndNotRecreatedOnRestart() throws Exception {
        Path keyFile = dataDir.resolve("bootstrap-admin-key");

        String firstOutput = captureStdout(() -> {
            try (TrentApp first = TrentApp.start(settings(""))) {
                String key = read(keyFile);
                TrentClient.Response r = first.client().get("/api/v1/certificates", key, "application/json");
                assertThat(r.status()).as("the generated key is an admin key: " + r).isEqualTo(200);
            }
        });
        String key = read(keyFile);
        assertThat(key).startsWith("trent_ak_").hasSizeGreaterThanOrEqualTo(32);
        assertThat(firstOutput).as("printed once on first start").contains(key);
        if (Files.getFileStore(keyFile).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile))).isEqualTo("rw-------");
        }
        long modified = Files.getLastModifiedTime(keyFile).toMillis();

        String secondOutput = captureStdout(() -> {
            try (TrentApp second = TrentApp.start(settings(""))) {
                TrentClient.Response r = second.client().get("/api/v1/certificates", key, "application/json");
                assertThat(r.status()).as("the first key still works: " + r).isEqualTo(200);
                assertThat(count(second, "select count(*) from api_key")).isEqualTo(1);
            }
        });

        assertThat(secondOutput).as("no key printed on restart").doesNotContain(key).doesNotContain("trent_ak_")
                .doesNotContain("Admin API key");
        assertThat(read(keyFile)).isEqualTo(key);
        assertThat(Files.getLastModifiedTime(keyFile).toMillis()).as("key file not rewritten").isEqualTo(modified);
        try (var files = Files.list(dataDir)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.contains("admin")).toList())
                    .containsExactly("bootstrap-admin-key");
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String issuerId(X509Certificate cert) {
        return java.util.HexFormat.of().formatHex(dev.trent.pki.KeyIds.subjectKeyId(cert));
    }

    /**
     * Runs {@code action} while copying everything written to {@code System.out} (the key banner
     * and the console log) into a buffer, still passing it through.
     */
    private static String captureStdout(Runnable action) {
        PrintStream original = System.out;
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        OutputStream tee = new OutputStream() {
            @Override
            public void write(int b) {
                buffer.write(b);
                original.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                buffer.write(b, off, len);
                original.write(b, off, len);
            }

            @Override
            public void flush() {
                original.flush();
            }
        };
        System.setOut(new PrintStream(tee, true, StandardCharsets.UTF_8));
        try {
            action.run();
        } finally {
            System.out.flush();
            System.setOut(original);
        }
        return buffer.toString(StandardCharsets.UTF_8);
    }
}
