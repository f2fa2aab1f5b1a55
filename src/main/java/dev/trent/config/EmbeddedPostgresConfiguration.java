package dev.trent.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.util.Base64;
import java.nio.file.Path;

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

import dev.trent.ca.CaCeremony;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * With no {@code spring.datasource.url}, Trent runs its own PostgreSQL whose data lives in
 * {@code <data-dir>/postgres} and survives restarts. With a URL, this configuration stays off
 * and Spring Boot's own DataSource is used.
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

    /** The embedded server and the password of its superuser. */
    record Embedded(EmbeddedPostgres postgres, String password) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            postgres.close();
        }
    }

    /**
     * Starts the server. It is initialised with password authentication (SCRAM-SHA-256) for
     * every connection, not zonky's default of trusting every local user: the password is
     * generated on first start and kept owner-only in {@code <data-dir>/postgres.password}.
     * Unix sockets are off; Trent connects over loopback TCP.
     */
    @Bean(destroyMethod = "close")
    Embedded embeddedPostgres(TrentProperties properties, SecureRandom random) throws IOException {
        Path dataDir = properties.dataDir().toAbsolutePath();
        Path dir = dataDir.resolve("postgres");
        Path passwordFile = dataDir.resolve("postgres.password");
        CaCeremony.createPrivateDirectory(dataDir);
        boolean initialised = Files.exists(dir.resolve("PG_VERSION"));
        if (!Files.exists(passwordFile)) {
            if (initialised) {
                throw new IllegalStateException(passwordFile + " is missing, but the embedded database in " + dir
                        + " exists: restore the password file (or point trent.data-dir at a fresh directory)");
            }
            byte[] bytes = new byte[24];
            random.nextBytes(bytes);
            CaCeremony.writePrivateFile(passwordFile, Base64.getUrlEncoder().withoutPadding().encodeToString(bytes)
                    .getBytes(StandardCharsets.US_ASCII));
        }
        String password = Files.readString(passwordFile, StandardCharsets.US_ASCII).strip();
        log.info("No spring.datasource.url set: starting embedded PostgreSQL with data in {}", dir);
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                // initdb: "--auth" and "--pwfile" come after zonky's own "-A trust" and win.
                .setLocaleConfig("auth", "scram-sha-256")
                .setLocaleConfig("pwfile", passwordFile.toString())
                .setConnectConfig("password", password)
                .setServerConfig("listen_addresses", "localhost")
                .setServerConfig("unix_socket_directories", "")
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("fsync", "on")
                .setServerConfig("max_connections", "100")
                .start();
        return new Embedded(postgres, password);
    }

    @Bean(destroyMethod = "close")
    DataSource dataSource(Embedded embedded) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(embedded.postgres().getJdbcUrl("postgres", "postgres"));
        config.setUsername("postgres");
        config.setPassword(embedded.password());
        config.setPoolName("trent-embedded");
        config.setMaximumPoolSize(20);
        return new HikariDataSource(config);
    }
}
