package dev.trent.pki;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PrivateFiles#restrictToOwner}: how an embedded CA's certificates of an older data directory become 0600. */
class RestrictToOwnerTest {

    @TempDir
    Path dir;

    @Test
    void restrictToOwnerWhenWorldReadableThenOwnerOnlyOnce() throws Exception {
        Path pem = Files.writeString(dir.resolve("root.pem"), "-----BEGIN CERTIFICATE-----\n");
        Files.setPosixFilePermissions(pem, PosixFilePermissions.fromString("rw-r--r--"));

        assertThat(PrivateFiles.restrictToOwner(pem)).isTrue();
        assertThat(Files.getPosixFilePermissions(pem)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(PrivateFiles.restrictToOwner(pem)).as("already owner-only").isFalse();
        assertThat(Files.readString(pem)).isEqualTo("-----BEGIN CERTIFICATE-----\n");
    }

    @Test
    void restrictToOwnerWhenMissingThenNothing() throws Exception {
        assertThat(PrivateFiles.restrictToOwner(dir.resolve("chain.pem"))).isFalse();
        assertThat(dir.resolve("chain.pem")).doesNotExist();
    }
}
