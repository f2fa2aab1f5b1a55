package dev.trent.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import dev.trent.cli.CaCli;

/**
 * SoftHSM2 tokens for the PKCS#11 tests, in the directory that {@code SOFTHSM2_CONF} (set for the
 * test JVMs by the pom) points into. Every token is created before this JVM first loads the
 * module (SoftHSM reads its token directory when it is initialized), all at once by
 * {@link #tokens()}:
 *
 * <ul>
 *   <li>{@code trent-it}: the CA the whole integration suite runs against in the PKCS#11
 *       execution, made by Trent's own ceremony ({@code ca init} with the token);</li>
 *   <li>{@code trent-faults}: a CA for the fault tests, which break and repair its files and
 *       change its PIN;</li>
 *   <li>{@code trent-keytool}: an empty token, for an intermediate made by keytool and openssl
 *       alone.</li>
 * </ul>
 *
 * Without SoftHSM2 the PKCS#11 tests are skipped with the reason; with {@code CI=true} they
 * fail instead, since CI installs it.
 */
public final class SoftHsm {

    private static final List<Path> LIBRARIES = List.of(Path.of("/usr/lib/softhsm/libsofthsm2.so"),
            Path.of("/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"), Path.of("/usr/lib64/softhsm/libsofthsm2.so"),
            Path.of("/usr/local/lib/softhsm/libsofthsm2.so"));

    /** One token: its label, its PIN (and a file holding it), and for CA tokens the key label and chain. */
    public record Token(Path library, String label, String pin, Path pinFile, String soPin, String keyLabel,
            Path chainPem, Path rootPem, Path directory) {

        /** The settings that make Trent sign with this token's CA key. */
        public Map<String, String> settings() {
            return Map.of("trent.ca.signer", "pkcs11", "trent.ca.pkcs11.library", library.toString(),
                    "trent.ca.pkcs11.token-label", label, "trent.ca.pkcs11.pin-file", pinFile.toString(),
                    "trent.ca.pkcs11.key-label", keyLabel);
        }
    }

    public record Tokens(Token suite, Token faults, Token keytool) {
    }

    private static Tokens tokens;

    private SoftHsm() {
    }

    public static Optional<Path> library() {
        return LIBRARIES.stream().filter(Files::isReadable).findFirst();
    }

    /** Why the PKCS#11 tests cannot run here, or empty. */
    public static Optional<String> unavailableReason() {
        if (library().isEmpty()) {
            return Optional.of("SoftHSM2 is not installed (apt-get install softhsm2): no libsofthsm2.so in " + LIBRARIES);
        }
        if (System.getenv("SOFTHSM2_CONF") == null) {
            return Optional.of("SOFTHSM2_CONF is not set in the test JVM's environment (the pom sets it for "
                    + "failsafe; run the tests through ./mvnw verify)");
        }
        try {
            run(List.of("softhsm2-util", "--version"));
        } catch (IllegalStateException e) {
            return Optional.of("softhsm2-util cannot run: " + e.getMessage());
        }
        return Optional.empty();
    }

    /** Skips the calling test with the reason, or fails it on CI, where SoftHSM2 must be present. */
    public static void assumeAvailable() {
        Optional<String> reason = unavailableReason();
        if (reason.isPresent()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail("PKCS#11 tests must run on CI: " + reason.get());
            }
            Assumptions.abort("PKCS#11 tests skipped: " + reason.get());
        }
    }

    /** The tokens, created on first use. */
    public static synchronized Tokens tokens() {
        assumeAvailable();
        if (tokens == null) {
            try {
                tokens = create();
            } catch (IOException e) {
                throw new IllegalStateException("cannot set up SoftHSM2 tokens", e);
            }
        }
        return tokens;
    }

    private static Tokens create() throws IOException {
        Path conf = Path.of(System.getenv("SOFTHSM2_CONF")).toAbsolutePath();
        Path base = conf.getParent();
        Path tokenDir = base.resolve("tokens");
        deleteRecursively(base);
        Files.createDirectories(tokenDir);
        Files.writeString(conf, "directories.tokendir = " + tokenDir + "\nobjectstore.backend = file\n"
                + "log.level = ERROR\nslots.removable = false\n", StandardCharsets.UTF_8);
        Path library = library().orElseThrow();
        // All tokens exist before this JVM loads the module (ca init below loads it).
        Token suite = token(library, base, "trent-it");
        Token faults = token(library, base, "trent-faults");
        Token keytool = token(library, base, "trent-keytool");
        return new Tokens(caInit(suite, base), caInit(faults, base), keytool);
    }

    private static Token token(Path library, Path base, String label) throws IOException {
        String pin = "pin-" + Long.toHexString(Double.doubleToLongBits(Math.random()));
        String soPin = "so-" + Long.toHexString(Double.doubleToLongBits(Math.random()));
        List<Path> before = listTokenDirs(base.resolve("tokens"));
        run(List.of("softhsm2-util", "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", soPin));
        List<Path> after = listTokenDirs(base.resolve("tokens"));
        after.removeAll(before);
        Path pinFile = base.resolve(label + ".pin");
        Files.writeString(pinFile, pin + "\n", StandardCharsets.UTF_8);
        return new Token(library, label, pin, pinFile, soPin, "trent-ca", null, null,
                after.size() == 1 ? after.get(0) : null);
    }

    /** A token with a CA made by {@code ca init}: root in a file, intermediate key in the token. */
    private static Token caInit(Token t, Path base) {
        String label = t.label();
        Path library = t.library();
        Path out = base.resolve(label + "-ca");
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        int rc = CaCli.run(new String[] {"init", "--out", out.toString(), "--pkcs11-library", library.toString(),
            "--token-label", label, "--pin-file", t.pinFile().toString(), "--key-label", t.keyLabel()},
                new PrintStream(stdout, true, StandardCharsets.UTF_8), new PrintStream(stderr, true, StandardCharsets.UTF_8));
        if (rc != 0) {
            throw new IllegalStateException("ca init in " + label + " failed: " + stderr.toString(StandardCharsets.UTF_8));
        }
        return new Token(library, label, t.pin(), t.pinFile(), t.soPin(), t.keyLabel(), out.resolve("chain.pem"),
                out.resolve("root.pem"), t.directory());
    }

    private static List<Path> listTokenDirs(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(Files::isDirectory).toList());
        }
    }

    /** Runs a command with this JVM's environment (so SOFTHSM2_CONF), failing on a non-zero exit. */
    public static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " did not finish");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(command.get(0) + " exited with " + p.exitValue() + ": " + output.strip());
            }
            return output;
        } catch (IOException e) {
            throw new IllegalStateException(e.toString(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
