package dev.trent.crl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CRL;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/**
 * {@code trent.crl.publish-dir} and {@code trent.crl.publish-command}: the CRL files a broker or
 * proxy reads, rewritten after a revocation, and the command run after each change, whose
 * failure or hang is logged and changes nothing else.
 */
@ExtendWith(OutputCaptureExtension.class)
class CrlFilesIT extends IntegrationTest {

    private static final Path BASE = createBase();
    private static final Path PUBLISH = BASE.resolve("crls");
    private static final Path LOG = BASE.resolve("commands.log");
    private static final Path FAIL = BASE.resolve("fail");
    private static final Path HANG = BASE.resolve("hang");
    private static final Path SCRIPT = BASE.resolve("publish.sh");

    private static Path createBase() {
        try {
            Path base = Files.createDirectories(Path.of("target", "crl-files-it", UUID.randomUUID().toString()))
                    .toAbsolutePath();
            // A stand-in for "restart the broker": records that it ran and what it was given.
            Files.writeString(base.resolve("publish.sh"), """
                    #!/bin/sh
                    if [ -e "%1$s/hang" ]; then sleep 60; fi
                    if [ -e "%1$s/fail" ]; then echo "failing on purpose"; echo fail >> "%1$s/commands.log"; exit 3; fi
                    echo "run $TRENT_CRL_DIR $TRENT_CRL_FILE ${SOFTHSM2_CONF:-no-other-environment} ${PATH:+path}" >> "%1$s/commands.log"
                    echo "published"
                    """.formatted(base));
            Files.setPosixFilePermissions(base.resolve("publish.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
            return base;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @DynamicPropertySource
    static void publishSettings(DynamicPropertyRegistry registry) {
        registry.add("trent.crl.publish-dir", PUBLISH::toString);
        registry.add("trent.crl.publish-command", SCRIPT::toString);
        registry.add("trent.crl.publish-command-timeout", () -> "2s");
    }

    private X509Certificate enrollAndRevoke(String prefix) {
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, deviceId(prefix), "device", null),
                "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        X509Certificate cert = r.certificates().get(0);
        TrentClient.Response revoked = c.postJson("/api/v1/certificates/" + cert.getSerialNumber().toString(16)
                + "/revoke", ADMIN_KEY, Map.of("reason", "keyCompromise"));
        assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
        return cert;
    }

    private String activeIssuerId() {
        for (var issuer : client().get("/api/v1/issuers", ADMIN_KEY, null).json().get("issuers")) {
            if ("ACTIVE".equalsIgnoreCase(issuer.get("state").asText())) {
                return issuer.get("id").asText();
            }
        }
        throw new AssertionError("no active issuer");
    }

    private static List<X509CRL> crls(Path file) {
        try {
            Collection<? extends CRL> all = CertificateFactory.getInstance("X.509")
                    .generateCRLs(new ByteArrayInputStream(Files.readAllBytes(file)));
            return all.stream().map(X509CRL.class::cast).toList();
        } catch (IOException | java.security.GeneralSecurityException e) {
            return List.of();
        }
    }

    private static boolean lists(Path file, X509Certificate cert) {
        return Files.exists(file) && crls(file).stream().anyMatch(c -> c.isRevoked(cert));
    }

    private static List<String> log() throws IOException {
        return Files.exists(LOG) ? Files.readAllLines(LOG) : List.of();
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("%s within 20 s", what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static int lines() {
        try {
            return log().size();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void publishDirWhenCertificateRevokedThenBothFilesRewrittenAndCommandRanWithItsEnvironment() throws Exception {
        Path issuerFile = PUBLISH.resolve(activeIssuerId() + ".crl.pem");
        Path combined = PUBLISH.resolve("crls.pem");
        await("the files are written at start", () -> Files.exists(issuerFile) && Files.exists(combined));
        int before = lines();

        X509Certificate revoked = enrollAndRevoke("files");
        await("the combined file lists the revoked certificate", () -> lists(combined, revoked));
        await("the command ran after the change", () -> lines() > before);

        assertThat(lists(issuerFile, revoked)).isTrue();
        assertThat(Files.readAllLines(LOG).get(Files.readAllLines(LOG).size() - 1))
                .as("the command sees TRENT_CRL_*, PATH, and nothing else of Trent's environment (such as "
                        + "SOFTHSM2_CONF, which the test JVM has)")
                .isEqualTo("run " + PUBLISH + " " + combined + " no-other-environment path");
        assertThat(Files.getPosixFilePermissions(issuerFile)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(Files.getPosixFilePermissions(combined)).isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        try (Stream<Path> files = Files.list(PUBLISH)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .as("no temporary file is left behind").allMatch(n -> n.endsWith(".crl.pem") || n.equals("crls.pem"));
        }
        if (Openssl.version() != null) {
            String serial = revoked.getSerialNumber().toString(16).toUpperCase(java.util.Locale.ROOT);
            Openssl.Result one = Openssl.ok(PUBLISH, "crl", "-in", issuerFile.getFileName().toString(), "-noout",
                    "-text");
            Openssl.Result all = Openssl.ok(PUBLISH, "crl", "-in", "crls.pem", "-noout", "-text");
            assertThat(one.output()).contains(serial);
            assertThat(all.output()).contains(serial);
        }

        // Nothing changes without a change: no rewrite, no command (two more CRL ticks).
        int settled = lines();
        FileTime modified = Files.getLastModifiedTime(combined);
        Thread.sleep(4_500);
        assertThat(lines()).isEqualTo(settled);
        assertThat(Files.getLastModifiedTime(combined)).isEqualTo(modified);
    }

    @Test
    void publishCommandWhenFailingOrHangingThenLoggedAndFilesStillWritten(CapturedOutput output) throws Exception {
        Path combined = PUBLISH.resolve("crls.pem");
        try {
            Files.writeString(FAIL, "");
            X509Certificate first = enrollAndRevoke("files-fail");
            await("the combined file lists the first revocation", () -> lists(combined, first));
            await("the failing command's exit is logged",
                    () -> output.getOut().contains("CRL publish command exited 3"));
            assertThat(output.getOut()).contains("failing on purpose");
            assertThat(log()).contains("fail");

            Files.delete(FAIL);
            Files.writeString(HANG, "");
            X509Certificate second = enrollAndRevoke("files-hang");
            await("the combined file lists the second revocation", () -> lists(combined, second));
            await("the hanging command is killed and logged",
                    () -> output.getOut().contains("CRL publish command killed after PT2S"));
            assertThat(lists(combined, first)).isTrue();
        } finally {
            Files.deleteIfExists(FAIL);
            Files.deleteIfExists(HANG);
        }

        int before = lines();
        X509Certificate third = enrollAndRevoke("files-again");
        await("the combined file lists the third revocation", () -> lists(combined, third));
        await("the command runs again", () -> lines() > before);
        assertThat(log().get(log().size() - 1)).startsWith("run ");
    }
}
