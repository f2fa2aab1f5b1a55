package dev.trent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code train} command line's answers to bad arguments, before anything starts (AotTrainingIT
 * runs it for real). The application class is one that would fail to start: these runs must never
 * reach it.
 */
class TrainCliTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            --enrollments 0        | trent train: --enrollments must be between 1 and 100000
            --enrollments 100001   | trent train: --enrollments must be between 1 and 100000
            --enrollments many     | trent train: --enrollments must be a number
            --concurrency 0        | trent train: --concurrency must be between 1 and 64
            --concurrency 65       | trent train: --concurrency must be between 1 and 64
            --enrollments          | trent train: --enrollments needs a value
            --fast                 | trent train: unknown option '--fast'
            """)
    void trainWhenArgumentsAreBadThenExit2WithOneLineNamingTheOption(String args, String message) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = TrainCli.run(args.split(" "), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), NotAnApplication.class);
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).startsWith(message).hasLineCount(1);
        assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    /** Not a Spring Boot application: starting it would fail the test with another message. */
    static final class NotAnApplication {
    }
}
