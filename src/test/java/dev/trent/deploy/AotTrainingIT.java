package dev.trent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar trent.jar train}, the training run the container image makes its AOT cache
 * with, run as the image runs it: the packaged jar in a JVM of its own. On the default JDK it
 * enrolls, queries OCSP and fetches CRLs on a throwaway instance and removes it, whatever the
 * environment says (a database and a broker that do not exist are configured here in every way
 * Spring Boot reads settings); on a
 * JDK 25 (the image's runtime), from the jar extracted as the Dockerfile extracts it, it writes an
 * AOT cache that a later start of the same layout can use ({@code -XX:AOTMode=on} refuses to start
 * otherwise).
 */
class AotTrainingIT {

    private static final Pattern SUMMARY = Pattern.compile(
            "trent train: (\\d+) enrollments \\((\\d+) over EST\\), (\\d+) renewals, (\\d+) OCSP requests and CRL "
                    + "downloads in \\d+ s on a throwaway data directory \\((.+), removed\\)");

    @TempDir
    Path tmp;

    record Run(int exit, String output) {
    }

    @Test
    void trainWhenRunThenEnrollsQueriesAndRemovesItsDataDirectoryIgnoringTheEnvironment() throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        // Every way a production container points Trent at its database, broker or webhooks: none
        // may be used (any of them would make the run fail to start or print the broker's line).
        String nowhere = "jdbc:postgresql://127.0.0.1:9/not-a-database";
        env.put("SPRING_DATASOURCE_URL", nowhere);
        env.put("TRENT_MOSQUITTO_URL", "mqtt://127.0.0.1:9");
        env.put("TRENT_DATA_DIR", tmp.resolve("production-data").toString());
        env.put("SPRING_APPLICATION_JSON", "{\"spring.datasource.url\":\"" + nowhere + "\"}");
        env.put("SPRING_PROFILES_ACTIVE", "production");
        Path secrets = Files.createDirectories(tmp.resolve("secrets"));
        Files.writeString(secrets.resolve("spring.datasource.url"), nowhere, StandardCharsets.UTF_8);
        env.put("SPRING_CONFIG_IMPORT", "optional:configtree:" + secrets + "/");
        env.put("JAVA_TOOL_OPTIONS", "-Dtrent.mosquitto.url=mqtt://127.0.0.1:9");
        // The working directory's config/, which Spring Boot reads by default.
        Path config = Files.createDirectories(tmp.resolve("config"));
        Files.writeString(config.resolve("application-production.yml"), "spring.datasource.url: " + nowhere + "\n",
                StandardCharsets.UTF_8);
        Files.writeString(config.resolve("application.yml"), "spring.datasource.url: " + nowhere + "\n",
                StandardCharsets.UTF_8);
        Run run = run(env, List.of(java(), "-Dspring.datasource.url=" + nowhere, "-jar", jar().toString(), "train",
                "--enrollments", "24", "--concurrency", "4"));
        assertThat(run.exit()).as(run.output()).isZero();
        assertThat(run.output()).contains("Picked up JAVA_TOOL_OPTIONS").doesNotContain("Mosquitto sync on")
                .doesNotContain("not-a-database");
        Matcher m = SUMMARY.matcher(run.output());
        assertThat(m.find()).as(run.output()).isTrue();
        assertThat(m.group(1)).isEqualTo("24");
        // Devices 3, 7, ... over EST; 0, 4, ... get the PEM chain: looked up by OCSP, their CRL
        // fetched, and every second one (0, 8, 16) renewed over mutual TLS.
        assertThat(m.group(2)).isEqualTo("6");
        assertThat(m.group(3)).isEqualTo("3");
        assertThat(m.group(4)).isEqualTo("6");
        assertThat(Path.of(m.group(5))).doesNotExist();
        // Trent's own log of the throwaway instance says the same.
        assertThat(Pattern.compile("Issued certificate \\p{XDigit}+ to device train-\\d+ ").matcher(run.output())
                .results().count()).isEqualTo(24);
        assertThat(Pattern.compile("Renewed certificate \\p{XDigit}+ of device train-\\d+ ").matcher(run.output())
                .results().count()).isEqualTo(3);
        assertThat(tmp.resolve("production-data")).doesNotExist();
        // The throwaway admin key (an operator API key) is never printed.
        assertThat(run.output()).doesNotContain(dev.trent.security.Secrets.API_KEY_PREFIX);
    }

    @Test
    void trainWhenRunOnJdk25WithAotCacheOutputThenTheImageLayoutStartsWithTheCache() throws Exception {
        Optional<Path> jdk25 = jdk25();
        Assumptions.assumeTrue(jdk25.isPresent(), "no JDK 25 or newer under /usr/lib/jvm (TRENT_TEST_JAVA25 unset): "
                + "the AOT cache is a JDK 25 feature; Debian has no package for one, so this is skipped, not failed, "
                + "in CI as well");
        String java25 = jdk25.get().toString();
        Path layout = tmp.resolve("opt-trent");
        Run extract = run(null, List.of(java25, "-Djarmode=tools", "-jar", jar().toString(), "extract", "--destination",
                layout.toString()));
        assertThat(extract.exit()).as(extract.output()).isZero();
        Path thin = layout.resolve(jar().getFileName());
        Path cache = tmp.resolve("trent.aot");
        // As the Dockerfile trains: classes, no method profiles (-XX:-AOTRecordTraining).
        // The image's JDK_JAVA_OPTIONS (its training and its targets share them).
        List<String> image = List.of("-XX:+UseParallelGC", "-XX:InlineSmallCode=1000", "-XX:FreqInlineSize=150");
        Run train = run(null, java(java25, image, "-XX:+UnlockDiagnosticVMOptions",
                "-XX:-AOTRecordTraining", "-XX:AOTCacheOutput=" + cache, "-jar", thin.toString(), "train",
                "--enrollments", "200"));
        assertThat(train.exit()).as(train.output()).isZero();
        assertThat(train.output()).contains("trent train: 200 enrollments");
        assertThat(Files.size(cache)).as("the AOT cache").isGreaterThan(20L << 20);
        // AOTMode=on: the JVM stops if it cannot use the cache (another class path, another JDK...).
        Run start = run(null, java(java25, image, "-XX:AOTCache=" + cache, "-XX:AOTMode=on",
                "-jar", thin.toString(), "audit", "help"));
        assertThat(start.exit()).as(start.output()).isZero();
        assertThat(start.output()).contains("usage: java -jar trent.jar audit");
    }

    private static List<String> java(String java, List<String> options, String... args) {
        List<String> command = new java.util.ArrayList<>();
        command.add(java);
        command.addAll(options);
        command.addAll(List.of(args));
        return command;
    }

    private static Path jar() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            return files.filter(p -> p.getFileName().toString().matches("trent-.*\\.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no target/trent-*.jar: run ./mvnw verify"))
                    .toAbsolutePath();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** TRENT_TEST_JAVA25, or the newest java under /usr/lib/jvm whose directory names version 25 or later. */
    private static Optional<Path> jdk25() throws IOException {
        String configured = System.getenv("TRENT_TEST_JAVA25");
        if (configured != null && !configured.isBlank()) {
            return Optional.of(Path.of(configured));
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        Pattern version = Pattern.compile("(?:^|[-_])(\\d{2,3})(?:[-_.]|$)");
        try (Stream<Path> dirs = Files.list(jvms)) {
            return dirs.filter(d -> Files.isExecutable(d.resolve("bin/java"))).filter(d -> {
                Matcher m = version.matcher(d.getFileName().toString());
                return m.find() && Integer.parseInt(m.group(1)) >= 25;
            }).max(Comparator.comparing(Path::toString)).map(d -> d.resolve("bin/java"));
        }
    }

    private Run run(Map<String, String> env, List<String> command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(command)).directory(tmp.toFile())
                .redirectErrorStream(true);
        if (env != null) {
            builder.environment().clear();
            builder.environment().putAll(env);
        }
        Path log = Files.createTempFile(tmp, "run", ".log");
        builder.redirectOutput(log.toFile());
        Process p = builder.start();
        p.getOutputStream().close();
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("did not finish within 5 minutes: " + command + "\n"
                    + Files.readString(log, StandardCharsets.UTF_8));
        }
        return new Run(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    }
}
