package dev.trent.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs a command line tool nobody here wrote (gcc, a compiled mbedTLS program, GnuTLS's
 * certtool) with a timeout, and skips or fails a test that needs a missing one: skipped with the
 * reason on a developer's machine, failed with {@code CI=true} (where {@code .ci/run} installs
 * the tool), as {@link Openssl} does.
 */
public final class ExternalTool {

    private static final long TIMEOUT_SECONDS = 120;

    private ExternalTool() {
    }

    /** Exit code and the combined stdout and stderr of one run. */
    public record Result(List<String> command, int exitCode, String output) {
        @Override
        public String toString() {
            return String.join(" ", command) + " -> exit " + exitCode + "\n" + output;
        }
    }

    /** Runs {@code command} in {@code dir}; throws when it cannot be started or does not finish. */
    public static Result run(Path dir, List<String> command) throws IOException {
        return run(dir, null, command);
    }

    /**
     * Runs {@code command} in {@code dir} with exactly the environment {@code environment} (or
     * this JVM's when null); throws when it cannot be started or does not finish.
     */
    public static Result run(Path dir, Map<String, String> environment, List<String> command)
            throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        if (environment != null) {
            builder.environment().clear();
            builder.environment().putAll(environment);
        }
        Process p = builder.start();
        try {
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("did not finish within " + TIMEOUT_SECONDS + "s: " + command);
            }
            return new Result(command, p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    /** Skips the calling test with {@code reason}, or fails it when {@code CI=true}. */
    public static void unavailable(String reason) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(reason + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(reason);
    }
}
