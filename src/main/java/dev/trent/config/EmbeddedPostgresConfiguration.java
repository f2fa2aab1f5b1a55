package dev.trent.config;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;


/**
 * With no {@code spring.datasource.url}, Trent runs its own PostgreSQL whose data lives in
 * {@code <data-dir>/postgres} and survives restarts, supervised by {@link EmbeddedPostmaster}.
 * With a URL, this configuration stays off and Spring Boot's own DataSource is used.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(EmbeddedPostgresConfiguration.NoDatasourceUrl.class)
class EmbeddedPostgresConfiguration {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresConfiguration.class);

    static class NoDatasourceUrl implements Condition {
        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            String url = context.getEnvironment().getProperty("spring.datasource.url");
            return url == null || url.isBlank();
        }
    }

    /** The embedded server, the password of its superuser, and the data directory's lock. */
    record Embedded(EmbeddedPostmaster postmaster, String password, FileChannel lockFile) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                postmaster.close();
            } finally {
                lockFile.close();
            }
        }

        String jdbcUrl() {
            return "jdbc:postgresql://localhost:" + postmaster.port() + "/postgres";
        }
    }

    /**
     * Starts the server. It is initialised with password authentication (SCRAM-SHA-256) for
     * every connection, not zonky's default of trusting every local user: the password is
     * generated on first start and kept owner-only in {@code <data-dir>/postgres.password}.
     * Unix sockets are off; Trent connects over loopback TCP. The data directory is locked
     * ({@code <data-dir>/postgres.lock}, released by the OS when this JVM ends) for as long as
     * the server runs, so a second Trent on the same directory stops with a message instead of
     * touching it, and a PostgreSQL found running there belongs to no live Trent
     * ({@link EmbeddedPostmaster}).
     */
    @Bean(destroyMethod = "close")
    Embedded embeddedPostgres(TrentProperties properties, SecureRandom random) throws IOException {
        Path dataDir = properties.dataDir().toAbsolutePath();
        Path dir = dataDir.resolve("postgres");
        Path passwordFile = dataDir.resolve("postgres.password");
        dev.trent.pki.PrivateFiles.createPrivateDirectory(dataDir);
        FileChannel lockFile = FileChannel.open(dataDir.resolve("postgres.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        try {
            FileLock lock;
            try {
                lock = lockFile.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IllegalStateException("Another Trent is running with trent.data-dir=" + dataDir
                        + " (it holds " + dataDir.resolve("postgres.lock") + "): stop it or use another data directory");
            }
            boolean initialised = Files.exists(dir.resolve("PG_VERSION"));
            if (!Files.exists(passwordFile)) {
                if (initialised) {
                    throw new IllegalStateException(passwordFile + " is missing, but the embedded database in " + dir
                            + " exists: restore the password file (or point trent.data-dir at a fresh directory)");
                }
                byte[] bytes = new byte[24];
                random.nextBytes(bytes);
                dev.trent.pki.PrivateFiles.writePrivateFile(passwordFile, Base64.getUrlEncoder().withoutPadding()
                        .encodeToString(bytes).getBytes(StandardCharsets.US_ASCII));
            }
            String password = Files.readString(passwordFile, StandardCharsets.US_ASCII).strip();
            Path binaries = PostgresBinaries.unpacked();
            if (!Files.exists(dir.resolve("postgresql.conf"))) {
                if (Files.isDirectory(dir)) {
                    try (var entries = Files.list(dir)) {
                        if (entries.findAny().isPresent()) {
                            throw new IllegalStateException(dir + " is not a complete PostgreSQL cluster (no "
                                    + "postgresql.conf): move it away to let Trent create a new one");
                        }
                    }
                    Files.delete(dir);
                }
                // Made beside and renamed into place: a crash during initdb leaves no half cluster behind.
                Path fresh = dataDir.resolve("postgres.initdb");
                dev.trent.pki.PrivateFiles.deleteTree(fresh);
                log.info("Creating the embedded PostgreSQL cluster in {}", dir);
                EmbeddedPostmaster.initdb(binaries, fresh, passwordFile);
                Files.move(fresh, dir, StandardCopyOption.ATOMIC_MOVE);
            }
            log.info("No spring.datasource.url set: starting embedded PostgreSQL with data in {}", dir);
            Map<String, String> config = new LinkedHashMap<>();
            config.put("timezone", "UTC");
            config.put("listen_addresses", "localhost");
            config.put("unix_socket_directories", "");
            config.put("synchronous_commit", "on");
            config.put("fsync", "on");
            config.put("max_connections", "100");
            // A statement PostgreSQL refuses because of what a client sent (a NUL, an impossible
            // timestamp: Trent answers 400) is not copied into the log with its text.
            config.put("log_min_error_statement", "panic");
            EmbeddedPostmaster postmaster = EmbeddedPostmaster.start(binaries, dir, freePort(), password, config,
                    properties.database().embeddedRestartDelay(), Duration.ofMinutes(10));
            return new Embedded(postmaster, password, lockFile);
        } catch (IOException | RuntimeException e) {
            lockFile.close();
            throw e;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    @Bean(destroyMethod = "close")
    DataSource dataSource(Embedded embedded, TrentProperties properties) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(embedded.jdbcUrl());
        config.setUsername("postgres");
        config.setPassword(embedded.password());
        config.setPoolName("trent-embedded");
        config.setMaximumPoolSize(20);
        DatabaseTimeouts.apply(config, properties.database());
        return new HikariDataSource(config);
    }
}
