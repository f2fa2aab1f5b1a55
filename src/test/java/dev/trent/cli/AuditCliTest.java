package dev.trent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code audit verify} command line's answers to bad arguments and to help, without a
 * database (AuditChainIT runs it against one).
 */
class AuditCliTest {

    record Run(int exit, String out, String err) {
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = AuditCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Stream<Arguments> badArguments() {
        return Stream.of(
                Arguments.of(List.of(), "usage: java -jar trent.jar audit verify --jdbc-url"),
                Arguments.of(List.of("check"), "audit verify: unknown command 'check'"),
                Arguments.of(List.of("verify"), "audit verify: --jdbc-url and --trusted-root"),
                Arguments.of(List.of("verify", "--jdbc-url", "jdbc:postgresql://127.0.0.1:9/x"),
                        "--trusted-root (Trent's root certificate"),
                Arguments.of(List.of("verify", "--user"), "audit verify: --user needs a value"),
                Arguments.of(List.of("verify", "--password", "secret"), "audit verify: unknown option '--password'"),
                Arguments.of(List.of("verify", "--expect", "12:abc"), "audit verify: --expect is <entry>:<64 hex digits>"),
                Arguments.of(List.of("verify", "--jdbc-url", "jdbc:postgresql://127.0.0.1:9/x", "--trusted-root",
                        "/nonexistent/root.pem"), "audit verify: no such file: /nonexistent/root.pem"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badArguments")
    void runWhenBadArgumentsThenExitTwoAndMessageOnErr(List<String> args, String message) {
        Run r = cli(args.toArray(String[]::new));

        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.err()).as(r.toString()).contains(message);
        assertThat(r.out()).as(r.toString()).isEmpty();
    }

    @Test
    void runWhenHelpVerifyThenOptionsOnOutAndExitZero() {
        Run r = cli("help", "verify");

        assertThat(r.exit()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).startsWith("usage: java -jar trent.jar audit verify").contains("--jdbc-url URL",
                "--user USER", "--password-file FILE", "--trusted-root ROOT.pem", "--expect SEQ:HASH",
                "TRENT_AUDIT_DB_PASSWORD");
    }
}
