package dev.trent.support;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * GnuTLS's {@code certtool} (Debian package {@code gnutls-bin}). A test that needs it calls
 * {@link #assumeAvailable()}: skipped with the reason when it is missing, failed with
 * {@code CI=true}.
 */
public final class Certtool {

    private Certtool() {
    }

    public static void assumeAvailable() {
        String problem;
        try {
            ExternalTool.Result r = ExternalTool.run(Path.of("."), List.of("certtool", "--version"));
            if (r.exitCode() == 0) {
                return;
            }
            problem = r.toString();
        } catch (IOException e) {
            problem = e.getMessage();
        }
        ExternalTool.unavailable("GnuTLS's certtool cannot be run (" + problem
                + "); install gnutls-bin to run this interop test");
    }

    /** Runs {@code certtool args...} in {@code dir}. */
    public static ExternalTool.Result run(Path dir, String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add("certtool");
        command.addAll(List.of(args));
        return ExternalTool.run(dir, command);
    }
}
