package dev.trent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.support.SoftHsm;

/**
 * The softhsm image's entrypoint ({@code docker/trent-hsm-entrypoint.sh}) run here as the image
 * runs it, against a SoftHSM2 directory of its own and the packaged jar, with Trent's start
 * replaced by a stand-in that prints what it was given: a first start makes the token and the CA
 * key with {@code ca init}; a second changes nothing; a wrong PIN and a lost token stop it.
 */
class DeploymentEntrypointIT {

    private static final Path ENTRYPOINT = Path.of("docker/trent-hsm-entrypoint.sh").toAbsolutePath();

    @TempDir
    Path tmp;

    private Path tokens;
    private Path data;
    private Path trent;
    private Map<String, String> env;

    record Run(int exit, String output) {
    }

    @BeforeEach
    void setUp() throws IOException {
        SoftHsm.assumeAvailable();
        Path jar;
        try (Stream<Path> files = Files.list(Path.of("target"))) {
            jar = files.filter(p -> p.getFileName().toString().matches("trent-.*\\.jar")).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no target/trent-*.jar: run ./mvnw verify"))
                    .toAbsolutePath();
        }
        tokens = Files.createDirectories(tmp.resolve("tokens"));
        data = Files.createDirectories(tmp.resolve("data"));
        Path conf = tmp.resolve("softhsm2.conf");
        Files.writeString(conf, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n",
                StandardCharsets.UTF_8);
        Files.writeString(tmp.resolve("pin"), "user-pin-1234\n", StandardCharsets.UTF_8);
        Files.writeString(tmp.resolve("so-pin"), "so-pin-5678\n", StandardCharsets.UTF_8);
        // Stands for the image's CMD (java [JVM options] -jar trent.jar): the entrypoint appends
        // `ca ...` for the ceremony, which runs the real jar; anything else would start Trent.
        trent = tmp.resolve("trent");
        Files.writeString(trent, "#!/usr/bin/env bash\nargs=(\"$@\")\nfor i in \"${!args[@]}\"; do\n"
                + "  if [ \"${args[$i]}\" = ca ]; then exec java -jar '" + jar + "' \"${args[@]:$i}\"; fi\ndone\n"
                + "echo \"trent would start: signer=$TRENT_CA_SIGNER args=$*\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(trent, PosixFilePermissions.fromString("rwx------"));
        env = new HashMap<>(Map.of("SOFTHSM2_CONF", conf.toString(), "TRENT_DATA_DIR", data.toString(),
                "TRENT_CA_SIGNER", "pkcs11", "TRENT_CA_PKCS11_LIBRARY", SoftHsm.library().orElseThrow().toString(),
                "TRENT_CA_PKCS11_TOKEN_LABEL", "trent-ca", "TRENT_CA_PKCS11_KEY_LABEL", "trent-ca",
                "TRENT_CA_PKCS11_PIN_FILE", tmp.resolve("pin").toString(),
                "TRENT_HSM_SO_PIN_FILE", tmp.resolve("so-pin").toString()));
    }

    @Test
    void entrypointWhenFirstStartThenMakesTokenAndCaKeyAndSecondStartChangesNothing() throws Exception {
        Run first = entrypoint("--flag");
        assertThat(first.exit()).as(first.output()).isZero();
        assertThat(first.output()).contains("initialising one", "'trent-ca' in token 'trent-ca'",
                "trent would start: signer=pkcs11 args=--flag");
        assertThat(data.resolve("hsm-root/root.pem")).isNotEmptyFile();
        assertThat(data.resolve("hsm-root/root.p12")).isNotEmptyFile();
        Run list = run(List.of(trent.toString(), "ca", "list", "--pkcs11-library", env.get("TRENT_CA_PKCS11_LIBRARY"),
                "--token-label", "trent-ca", "--pin-file", tmp.resolve("pin").toString()));
        assertThat(list.output()).contains("'trent-ca' (key)", "Intermediate CA");

        Run second = entrypoint();
        assertThat(second.exit()).as(second.output()).isZero();
        assertThat(second.output()).doesNotContain("initialising", "making the CA").contains("trent would start");
        Run slots = run(List.of("softhsm2-util", "--show-slots"));
        assertThat(slots.output().split("Label:\\s+trent-ca\\s", -1)).as(slots.output()).hasSize(2);
    }

    @Test
    void entrypointWhenPinWrongThenStopsBeforeTrent() throws Exception {
        assertThat(entrypoint().exit()).isZero();
        Files.writeString(tmp.resolve("pin"), "wrong-pin\n", StandardCharsets.UTF_8);
        Run r = entrypoint();
        assertThat(r.exit()).isNotZero();
        assertThat(r.output()).contains("the PIN is wrong").doesNotContain("trent would start");
    }

    @Test
    void entrypointWhenTokenLostButRootKeptThenRefusesANewCa() throws Exception {
        assertThat(entrypoint().exit()).isZero();
        try (Stream<Path> walk = Files.walk(tokens)) {
            walk.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(tokens)).forEach(p -> p.toFile().delete());
        }
        Run r = entrypoint();
        assertThat(r.exit()).isNotZero();
        assertThat(r.output()).contains("the token volume was lost").doesNotContain("trent would start");
        assertThat(run(List.of("softhsm2-util", "--show-slots")).output()).doesNotContain("trent-ca");
    }

    @Test
    void entrypointWhenNoSoPinOnFirstStartThenSaysWhichVariable() throws Exception {
        env.remove("TRENT_HSM_SO_PIN_FILE");
        Run r = entrypoint();
        assertThat(r.exit()).isNotZero();
        assertThat(r.output()).contains("TRENT_HSM_SO_PIN_FILE").doesNotContain("trent would start");
    }

    private Run entrypoint(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(ENTRYPOINT.toString(), trent.toString()));
        command.addAll(List.of(args));
        return run(command);
    }

    private Run run(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("TRENT_") || k.equals("SOFTHSM2_CONF"));
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("did not finish: " + command + "\n" + out);
        }
        return new Run(p.exitValue(), out);
    }
}
