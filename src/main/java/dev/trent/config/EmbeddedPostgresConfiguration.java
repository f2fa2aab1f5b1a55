package dev.trent.config;

import java.io.IOException;
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

    @Bean(destroyMethod = "close")
    EmbeddedPostgres embeddedPostgres(TrentProperties properties) throws IOException {
        Path dir = properties.dataDir().resolve("postgres").toAbsolutePath();
        CaCeremony.createPrivateDirectory(dir.getParent());
        log.info("No spring.datasource.url set: starting embedded PostgreSQL with data in {}", dir);
        return EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setServerConfig("synchronous_commit", "on")
                .setServerConfig("fsync", "on")
                .setServerConfig("max_connections", "100")
                .start();
    }

    @Bean(destroyMethod = "close")
    DataSource dataSource(EmbeddedPostgres postgres) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(postgres.getJdbcUrl("postgres", "postgres"));
        config.setUsername("postgres");
        config.setPoolName("trent-embedded");
        config.setMaximumPoolSize(20);
        return new HikariDataSource(config);
    }
}
