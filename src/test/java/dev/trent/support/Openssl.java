package dev.trent.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The real {@code openssl} command line tool, run in a working directory. A test that needs it
 * calls {@link #assumeAvailable()} first: on a developer's machine without openssl the test is
 * skipped with a visible reason; in CI ({@code CI=true}, where {@code .ci/run} installs it) it
 * fails instead.
 */
public final class Openssl {

    private static final long TIMEOUT_SECONDS = 60;

    private Openssl() {
    }

    /** Exit code and the combined stdout and stderr of one openssl run. */
    public record Result(List<String> command, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " -> exit " + exitCode + "\n" + output;
        }
    }

    /** The output of {@code openssl version}, or null when openssl cannot be run. */
    public static String version() {
        try {
            Process p = new ProcessBuilder("openssl", "version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            return p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Skips the calling test when openssl is missing, or fails it when running in CI. */
    public static void assumeAvailable() {
        if (version() != null) {
            return;
        }
        String reason = "the openssl command line tool is not on the PATH; install it to run this interop test";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(reason + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(reason);
    }

    /** Runs {@code openssl args...} in {@code dir} and returns its exit code and output. */
    public static Result run(Path dir, String... args) {
        List<String> command = new ArrayList<>();
        command.add("openssl");
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("openssl did not finish within " + TIMEOUT_SECONDS + "s: " + command);
            }
            return new Result(command, p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
    }

    /** Like {@link #run} but fails the test unless openssl exits 0. */
    public static Result ok(Path dir, String... args) {
        Result r = run(dir, args);
        Assertions.assertEquals(0, r.exitCode(), () -> "openssl failed: " + r);
        return r;
    }
}
