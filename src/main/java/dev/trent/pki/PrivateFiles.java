package dev.trent.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Files holding keys, passwords and other secrets: owner-only, written atomically. */
public final class PrivateFiles {

    private PrivateFiles() {
    }

    /**
     * Removes a directory and everything in it (a data directory, unpacked binaries); nothing
     * when it does not exist.
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.io.UncheckedIOException e) {
            // Files.walk reports what it cannot read while walking this way.
            throw e.getCause();
        }
    }

    /** Creates a directory readable only by its owner (where the file system has POSIX modes). */
    public static void createPrivateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        setMode(dir, "rwx------");
    }

    /**
     * Makes an existing file owner-only (0600) where the file system has POSIX permissions.
     *
     * @return whether its permissions were changed
     */
    public static boolean restrictToOwner(Path file) throws IOException {
        if (!Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                || !Files.getFileStore(file).supportsFileAttributeView("posix")) {
            return false;
        }
        java.util.Set<java.nio.file.attribute.PosixFilePermission> ownerOnly = PosixFilePermissions.fromString(
                "rw-------");
        if (Files.getPosixFilePermissions(file).equals(ownerOnly)) {
            return false;
        }
        Files.setPosixFilePermissions(file, ownerOnly);
        return true;
    }

    /** Writes a file atomically with owner-only permissions. */
    public static void writePrivateFile(Path file, byte[] content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".tmp-", ".part");
        try {
            setMode(tmp, "rw-------");
            Files.write(tmp, content);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public static void writePublicFile(Path file, String content) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, content, StandardCharsets.US_ASCII);
    }

    private static void setMode(Path path, String mode) throws IOException {
        if (Files.getFileStore(path).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
        }
    }
}
