package dev.trent.support;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * mbedTLS as a device runs it: {@code src/test/resources/mbedtls/crl_verify.c}, compiled once per
 * test JVM with gcc against the system's mbedTLS ({@code libmbedtls-dev}: headers,
 * {@code -lmbedx509 -lmbedcrypto}) into {@code target/mbedtls/}, checks a chain against a root
 * with a CRL ({@code mbedtls_x509_crl_parse}, {@code mbedtls_x509_crt_verify}). Without gcc or
 * the library the test is skipped with the reason, or fails with {@code CI=true}.
 */
public final class MbedTls {

    /**
     * Environment variable naming the directory of another mbedTLS build to compile against
     * instead of the system's (its {@code include/} and {@code library/*.a}); how the tests
     * were run against mbedTLS 3.6 here (docs/testing.md).
     */
    public static final String OTHER_BUILD = "TRENT_TEST_MBEDTLS_DIR";

    private static Path program;
    private static String unavailable;

    private MbedTls() {
    }

    /** What the program printed: {@code crl_parse}, {@code verify}, {@code flags}, ... */
    public record Result(ExternalTool.Result run, Map<String, String> values) {

        /** The return of mbedtls_x509_crl_parse (0, or a negative error such as -0x2562). */
        public int crlParse() {
            return number("crl_parse");
        }

        /** The return of mbedtls_x509_crt_verify. */
        public int verify() {
            return number("verify");
        }

        /** The verification flags. */
        public long flags() {
            return number("flags") & 0xffffffffL;
        }

        /** The library's value of MBEDTLS_X509_BADCERT_REVOKED. */
        public long revokedBit() {
            return number("revoked_bit") & 0xffffffffL;
        }

        public String version() {
            return values.get("version");
        }

        private int number(String key) {
            String v = values.get(key);
            if (v == null) {
                throw new AssertionError("crl_verify printed no '" + key + "': " + run);
            }
            boolean negative = v.startsWith("-");
            String digits = negative ? v.substring(1) : v;
            long n = digits.startsWith("0x") ? Long.parseLong(digits.substring(2), 16) : Long.parseLong(digits);
            return (int) (negative ? -n : n);
        }

        @Override
        public String toString() {
            return run.toString();
        }
    }

    /** Compiles the program unless done already; skips or fails the test when that is impossible. */
    public static synchronized Path assumeAvailable() {
        if (program == null && unavailable == null) {
            compile();
        }
        if (unavailable != null) {
            ExternalTool.unavailable(unavailable);
        }
        return program;
    }

    private static void compile() {
        try {
            Path dir = Files.createDirectories(Path.of("target", "mbedtls")).toAbsolutePath();
            Path work = Files.createTempDirectory(dir, "build-");
            Path source = work.resolve("crl_verify.c");
            try (InputStream in = MbedTls.class.getResourceAsStream("/mbedtls/crl_verify.c")) {
                if (in == null) {
                    throw new IllegalStateException("test resource /mbedtls/crl_verify.c is missing");
                }
                Files.copy(in, source);
            }
            ExternalTool.Result gcc;
            try {
                List<String> command = new java.util.ArrayList<>(List.of("gcc", "-Wall", "-o", "crl_verify",
                        "crl_verify.c"));
                String other = System.getenv(OTHER_BUILD);
                if (other != null && !other.isBlank()) {
                    // Another mbedTLS build (say 3.6, which Debian 12 does not ship): its headers and
                    // its static libraries, library/libmbedx509.a and library/libmbedcrypto.a.
                    command.addAll(List.of("-I" + Path.of(other, "include"), "-L" + Path.of(other, "library"),
                            "-Wl,-Bstatic"));
                }
                command.addAll(List.of("-lmbedx509", "-lmbedcrypto"));
                if (other != null && !other.isBlank()) {
                    command.add("-Wl,-Bdynamic");
                }
                gcc = ExternalTool.run(work, command);
            } catch (IOException e) {
                unavailable = "gcc cannot be run (" + e.getMessage() + "); install gcc, libc6-dev and "
                        + "libmbedtls-dev to run the mbedTLS interop test";
                return;
            }
            if (gcc.exitCode() != 0) {
                unavailable = "cannot compile the mbedTLS test program; install libmbedtls-dev (and gcc, "
                        + "libc6-dev): " + gcc;
                return;
            }
            program = work.resolve("crl_verify");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Verifies {@code leaf} (issued by {@code intermediate}) up to the trust anchor {@code root}
     * with {@code crl} (DER or PEM), all files in {@code dir}.
     */
    public static Result verify(Path dir, Path root, Path intermediate, Path leaf, Path crl) throws IOException {
        Path exe = assumeAvailable();
        ExternalTool.Result r = ExternalTool.run(dir, List.of(exe.toString(), root.toString(),
                intermediate.toString(), leaf.toString(), crl.toString()));
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : r.output().split("\n")) {
            int space = line.indexOf(' ');
            if (space > 0) {
                values.merge(line.substring(0, space), line.substring(space + 1).strip(), (a, b) -> a + "\n" + b);
            }
        }
        if (r.exitCode() == 2) {
            throw new AssertionError("crl_verify could not run: " + r);
        }
        return new Result(r, values);
    }
}
