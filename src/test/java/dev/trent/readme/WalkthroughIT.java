package dev.trent.readme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.trent.support.ExternalTool;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * README.md's walkthrough, exactly as README shows it: the first {@code sh} block of its
 * "Walkthrough" section is read from README.md at test time and run with {@code bash}, from a
 * directory that is neither the repository nor Trent's, against a Trent started on its own data
 * directory (embedded PostgreSQL, the admin key it saves on first start). Each step's outcome is
 * asserted on the script's output and, independently, on Trent and on the files it left; and a
 * walkthrough that cannot authenticate stops at its first step, loudly. That first start of
 * Trent logs no warning (none of its conditions holds on a fresh data directory), and leaves its
 * CA directory and admin key owner-only, as docs/ca.md says.
 */
@ExtendWith(OutputCaptureExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WalkthroughIT {

    private static final Path README = Path.of("README.md").toAbsolutePath();
    private static final Pattern WORK_DIR = Pattern.compile("^files in (/\\S+)$", Pattern.MULTILINE);

    @TempDir
    static Path dataDir;

    private static TrentApp app;
    private static int port;
    private static String startLog;

    @TempDir
    Path elsewhere;

    @BeforeAll
    static void start(CapturedOutput output) throws IOException {
        // The walkthrough reads the admin key Trent saved in its own data directory.
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("SPRING_DATASOURCE_URL") == null,
                "SPRING_DATASOURCE_URL is set: the walkthrough needs the key Trent saves on its first start");
        for (String tool : List.of("bash", "curl", "openssl", "python3")) {
            if (ExternalTool.run(Path.of("."), List.of("sh", "-c", "command -v " + tool)).exitCode() != 0) {
                ExternalTool.unavailable(tool + " is not on the PATH; README's walkthrough needs bash, curl, "
                        + "openssl and python3");
            }
        }
        // The certificates' CRL and OCSP URLs, which the walkthrough follows, name this port.
        port = freePort();
        app = TrentApp.start(settings());
        startLog = output.getAll();
    }

    private static Map<String, String> settings() {
        return Map.of("server.port", String.valueOf(port), "trent.data-dir", dataDir.toString(),
                "trent.public-base-url", "http://localhost:" + port,
                // Empty means "not configured": Trent makes the key and saves it in the data directory.
                "trent.bootstrap-admin-token", "");
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    @Test
    void walkthroughWhenRunAsReadmeShowsItThenEveryStepHasItsOutcome() throws Exception {
        ExternalTool.Result run = walkthrough(Map.of("TRENT_DATA_DIR", dataDir.toString()));
        String out = run.output();
        Path work = workDir(out);
        try {
            assertThat(run.exitCode()).as(run.toString()).isZero();
            X509Certificate device = certificate(work.resolve("device.pem"));
            String serial = device.getSerialNumber().toString(16).toUpperCase(java.util.Locale.ROOT);
            // openssl prints serials in whole octets.
            String printed = serial.length() % 2 == 0 ? serial : "0" + serial;

            assertThat(out).as("3 and 4: the DER repeat is the same certificate")
                    .contains("device.der: the same certificate");
            assertThat(out).as("5: openssl verifies the chain against the root").contains("device.pem: OK");
            assertThat(out).as("6: looked up").contains(printed + ": ISSUED");
            assertThat(out).as("7: revoked").contains(printed + ": REVOKED");
            assertThat(out).as("8: OCSP").contains("Response verify OK", "device.pem: revoked",
                    "Reason: keyCompromise");
            assertThat(out).as("9: the CRL lists the serial and its signature verifies")
                    .contains("Serial Number: " + printed, "verify OK");
            assertThat(out).contains("done; the files are in " + work);

            // Independently of the script's own words: Trent revoked the walkthrough's certificate.
            String admin = Files.readString(dataDir.resolve("bootstrap-admin-key")).strip();
            TrentClient.Response record = app.client().get("/api/v1/certificates/" + serial, admin,
                    "application/json");
            JsonNode json = record.json();
            assertThat(json.get("deviceId").asText()).isEqualTo("sensor-0001");
            assertThat(json.get("status").asText()).isEqualTo("REVOKED");
            assertThat(json.get("revocationReason").asText()).isEqualTo("keyCompromise");
            assertThat(certificate(work.resolve("device-chain.pem"))).isEqualTo(device);
            assertThat(Files.readAllBytes(work.resolve("device.der"))).isEqualTo(device.getEncoded());

            // Its files, the private key included, are in the one temporary directory only.
            assertThat(work.startsWith(elsewhere) || work.startsWith(Path.of("").toAbsolutePath()))
                    .as(work + " is apart from the repository and the directory it was run from").isFalse();
            assertThat(work.resolve("device.key")).exists();
            try (Stream<Path> left = Files.list(elsewhere)) {
                assertThat(left).as("files left in the directory it was run from").isEmpty();
            }
        } finally {
            delete(work);
        }
    }

    @Test
    void walkthroughWhenTheAdminKeyIsWrongThenStopsAtTheFirstStepShowingTrentsAnswer() throws Exception {
        ExternalTool.Result run = walkthrough(Map.of("TRENT_BOOTSTRAP_ADMIN_TOKEN",
                "trent_ak_not-a-key-0123456789abcdefghijklmnop"));
        Path work = workDir(run.output());
        try {
            assertThat(run.exitCode()).as(run.toString()).isNotZero();
            assertThat(run.output()).contains("401", "https://trent.dev/problems/unauthorized")
                    .doesNotContain("device.pem");
            try (Stream<Path> files = Files.list(work)) {
                assertThat(files.map(f -> f.getFileName().toString())).as("nothing after step 1 ran")
                        .doesNotContain("device.key", "device.csr");
            }
        } finally {
            delete(work);
        }
    }

    @Test
    void walkthroughWhenNotToldWhereTheKeyIsThenSaysSoAndDoesNothing() throws Exception {
        ExternalTool.Result run = walkthrough(Map.of());

        assertThat(run.exitCode()).as(run.toString()).isNotZero();
        assertThat(run.output()).contains("TRENT_DATA_DIR").doesNotContain("files in");
    }

    @Test
    void firstStartWhenLoggedThenNoWarningOrError() {
        assertThat(startLog).as("the start was captured").contains("Started TrentApplication");
        // Each line of Spring Boot's console format: date, level, pid, ...
        List<String> alarms = startLog.lines().filter(l -> l.matches("^\\S+\\s+(WARN|ERROR)\\s.*")).toList();
        assertThat(alarms).as("WARN or ERROR lines of a first start").isEmpty();
    }

    @Test
    void firstStartWhenDoneThenTheCaDirectoryAndTheAdminKeyAreOwnerOnly() throws IOException {
        Path ca = dataDir.resolve("ca");
        assertThat(Files.getPosixFilePermissions(ca)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        try (Stream<Path> files = Files.list(ca)) {
            List<Path> all = files.toList();
            assertThat(all).extracting(f -> f.getFileName().toString()).contains("root.pem", "chain.pem",
                    "intermediate.p12", "intermediate.p12.pass", "root.p12", "root.p12.pass");
            for (Path f : all) {
                assertThat(Files.getPosixFilePermissions(f)).as(f.toString())
                        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            }
        }
        assertThat(Files.getPosixFilePermissions(dataDir.resolve("bootstrap-admin-key")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
    }

    /** Last: it restarts Trent. */
    @Test
    @Order(Integer.MAX_VALUE)
    void restartWhenCertificatesOfAnOlderDataDirectoryAreWorldReadableThenOwnerOnlyAndNoWarning(
            CapturedOutput output) throws IOException {
        app.close();
        app = null;
        for (String pem : List.of("root.pem", "chain.pem")) {
            Files.setPosixFilePermissions(dataDir.resolve("ca").resolve(pem), PosixFilePermissions.fromString(
                    "rw-r--r--"));
        }
        int before = output.getAll().length();

        app = TrentApp.start(settings());

        String restartLog = output.getAll().substring(before);
        assertThat(restartLog).contains("Started TrentApplication").contains("owner-only");
        for (String pem : List.of("root.pem", "chain.pem")) {
            assertThat(Files.getPosixFilePermissions(dataDir.resolve("ca").resolve(pem))).as(pem)
                    .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        }
        List<String> alarms = restartLog.lines().filter(l -> l.matches("^\\S+\\s+(WARN|ERROR)\\s.*")).toList();
        assertThat(alarms).as("WARN or ERROR lines of a restart").isEmpty();
    }

    // ---- helpers ----------------------------------------------------------------------------------

    /** The first {@code sh} block of README.md's "Walkthrough" section. */
    static String walkthroughScript() throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int section = readme.indexOf("\n## Walkthrough\n");
        assertThat(section).as("README.md has a Walkthrough section").isNotNegative();
        int next = readme.indexOf("\n## ", section + 1);
        String body = readme.substring(section, next < 0 ? readme.length() : next);
        Matcher block = Pattern.compile("\n```sh\n(.*?)\n```\n", Pattern.DOTALL).matcher(body);
        assertThat(block.find()).as("the Walkthrough section has a sh block").isTrue();
        return block.group(1) + "\n";
    }

    /** Runs the walkthrough with bash in {@link #elsewhere}, with this machine's environment minus Trent's. */
    private ExternalTool.Result walkthrough(Map<String, String> settings) throws IOException {
        Path script = Files.createTempFile("walkthrough", ".sh");
        try {
            Files.writeString(script, walkthroughScript());
            Map<String, String> env = new HashMap<>(System.getenv());
            env.keySet().removeIf(k -> k.startsWith("TRENT"));
            env.put("TRENT", "http://localhost:" + port);
            env.putAll(settings);
            return ExternalTool.run(elsewhere, env, List.of("bash", script.toString()));
        } finally {
            Files.delete(script);
        }
    }

    private static Path workDir(String output) {
        Matcher m = WORK_DIR.matcher(output);
        assertThat(m.find()).as("the walkthrough names its directory:\n" + output).isTrue();
        return Path.of(m.group(1));
    }

    private static X509Certificate certificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static void delete(Path dir) throws IOException {
        if (Files.exists(dir)) {
            try (Stream<Path> all = Files.walk(dir)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
