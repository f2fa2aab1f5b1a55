package dev.trent.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.trent.cli.CaCli;

/** Runs a {@code ca} CLI command in-process, as {@code java -jar trent.jar ca ...} would, and insists it succeeds. */
public final class CaCommand {

    private CaCommand() {
    }

    /** @return what the command printed on standard output */
    public static String run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = CaCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(rc).as("ca " + String.join(" ", args) + ": " + err.toString(StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    public static String run(List<String> args) {
        return run(args.toArray(String[]::new));
    }
}
