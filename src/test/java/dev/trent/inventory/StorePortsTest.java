package dev.trent.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The certificate store's writes are package-private; issuance reaches its own through
 * {@link CertificateReservations} and revocation its own through {@link CertificateRevocations}.
 * Java cannot say "public to one package", so the sources are read: no other main package uses a port.
 */
class StorePortsTest {

    private static final Path MAIN = Path.of("src/main/java/dev/trent");

    @Test
    void reservationsThenUsedOnlyByIssuance() {
        assertThat(users("CertificateReservations")).isNotEmpty().allMatch(p -> p.startsWith(MAIN.resolve("issuance"))
                || p.startsWith(MAIN.resolve("inventory")));
    }

    @Test
    void revocationWritesThenUsedOnlyByRevocation() {
        assertThat(users("CertificateRevocations")).isNotEmpty().allMatch(p -> p.startsWith(MAIN.resolve("revocation"))
                || p.startsWith(MAIN.resolve("inventory")));
    }

    /** Main source files that name {@code type}, other than its own. */
    private static List<Path> users(String type) {
        try (Stream<Path> files = Files.walk(MAIN)) {
            return files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !p.getFileName().toString().equals(type + ".java"))
                    .filter(p -> read(p).contains(type)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
