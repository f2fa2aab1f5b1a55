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

    @TempDir
    Path externalCa;

    @org.junit.jupiter.api.BeforeEach
    void embeddedOnly() {
        // These tests are about Trent's own embedded PostgreSQL and data directory.
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("SPRING_DATASOURCE_URL") == null,
                "SPRING_DATASOURCE_URL is set: restart tests need the embedded PostgreSQL");
    }

    @Test
    void embeddedPostgresWhenConnectingWithoutThePasswordThenRefused() throws Exception {
        try (TrentApp app = TrentApp.start(settings(IntegrationTest.ADMIN_KEY))) {
            String url = ((com.zaxxer.hikari.HikariDataSource) app.context().getBean(javax.sql.DataSource.class))
                    .getJdbcUrl();
            Path passwordFile = dataDir.resolve("postgres.password");
            assertThat(Files.getPosixFilePermissions(passwordFile)).isEqualTo(
                    PosixFilePermissions.fromString("rw-------"));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> java.sql.DriverManager.getConnection(url,
                    "postgres", "")).isInstanceOf(java.sql.SQLException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> java.sql.DriverManager.getConnection(url,
                    "postgres", "wrong")).hasMessageContaining("password authentication failed");
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "postgres",
                    Files.readString(passwordFile).strip())) {
                assertThat(c.isValid(2)).isTrue();
            }
        }
    }

    @Test
    void restartWhenCaReplacedByExternalIntermediateThenOldCertificatesStillServed() throws Exception {
        X509Certificate oldLeaf;
        String oldIssuerId;
        try (TrentApp first = TrentApp.start(settings(IntegrationTest.ADMIN_KEY))) {
            TrentClient client = first.client();
            TrentClient.Response r = client.enroll(client.token(IntegrationTest.ADMIN_KEY, "switch-device", "device",
                    null), "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(StandardCharsets.US_ASCII),
                    "application/json");
            assertThat(r.status()).isEqualTo(201);
            oldIssuerId = r.json().get("issuerId").asText();
            oldLeaf = client.get("/api/v1/certificates/" + r.json().get("serial").asText(), IntegrationTest.ADMIN_KEY,
                    "application/pkix-cert").certificates().get(0);
        }
        assertThat(dev.trent.cli.CaCli.run(new String[] {"init", "--out", externalCa.resolve("ca").toString()},
                new PrintStream(OutputStream.nullOutputStream()), new PrintStream(OutputStream.nullOutputStream())))
                .isZero();
        Map<String, String> s = settings(IntegrationTest.ADMIN_KEY);
        s.put("trent.ca.keystore.path", externalCa.resolve("ca/intermediate.p12").toString());
        s.put("trent.ca.keystore.password-file", externalCa.resolve("ca/intermediate.p12.pass").toString());
        try (TrentApp second = TrentApp.start(s)) {
            TrentClient client = second.client();
            TrentClient.Response old = client.get("/api/v1/certificates/" + oldLeaf.getSerialNumber().toString(16),
                    IntegrationTest.ADMIN_KEY, null);
            TrentClient.Response oldIssuer = client.get("/ca/" + oldIssuerId + ".crt", null, null);
            TrentClient.Response fresh = client.enroll(client.token(IntegrationTest.ADMIN_KEY, "switch-device-2",
                    "device", null), "application/x-pem-file",
                    TestCsrs.ecP256("x").pem().getBytes(StandardCharsets.US_ASCII), "application/json");

            assertThat(old.status()).as(old.toString()).isEqualTo(200);
            assertThat(old.certificates()).hasSize(2);
            assertThat(old.certificates().get(0)).isEqualTo(oldLeaf);
            oldLeaf.verify(old.certificates().get(1).getPublicKey());
            assertThat(oldIssuer.status()).isEqualTo(200);
            assertThat(oldIssuer.certificates().get(0).getSubjectX500Principal())
                    .isEqualTo(oldLeaf.getIssuerX500Principal());
            assertThat(fresh.json().get("issuerId").asText()).isNotEqualTo(oldIssuerId);
        }
    }

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

            // The database is the one from before, not a new one: each migration once, one issuer, one key.
            long migrations;
            try (java.util.stream.Stream<Path> files = Files.list(Path.of("db"))) {
                migrations = files.filter(f -> f.getFileName().toString().endsWith(".sql")).count();
            }
            assertThat(count(second, "select count(*) from flyway_schema_history where success"))
                    .isEqualTo(migrations);
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
