package dev.trent.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * {@code trent.database.*} applied to every Hikari pool, the embedded database's and Spring
 * Boot's for an external one, so that a PostgreSQL that is gone or hangs costs a request a few
 * seconds and a 503 ({@code dev.trent.web.DatabaseUnavailable}), not a 30-second wait:
 * <ul>
 * <li>connect-timeout: the pool's wait for a connection ({@code connectionTimeout}), and the
 * driver's TCP connect and login ({@code connectTimeout}, {@code loginTimeout});</li>
 * <li>statement-timeout: PostgreSQL's {@code statement_timeout}, set on each new connection
 * (unless {@code spring.datasource.hikari.connection-init-sql} is set), and the driver's
 * {@code socketTimeout} (statement-timeout + connect-timeout), which ends the wait for a
 * server that no longer answers at all.</li>
 * </ul>
 * Settings in the JDBC URL win over these driver properties.
 */
@Configuration(proxyBeanMethods = false)
class DatabaseTimeouts {

    private static final Logger log = LoggerFactory.getLogger(DatabaseTimeouts.class);

    static void apply(HikariConfig config, TrentProperties.Database db) {
        long connectMillis = db.connectTimeout().toMillis();
        config.setConnectionTimeout(connectMillis);
        config.setValidationTimeout(Math.max(250, Math.min(connectMillis - 250, 5_000)));
        config.addDataSourceProperty("connectTimeout", seconds(db.connectTimeout()));
        config.addDataSourceProperty("loginTimeout", seconds(db.connectTimeout()));
        config.addDataSourceProperty("socketTimeout", seconds(db.socketTimeout()));
        if (config.getConnectionInitSql() == null) {
            config.setConnectionInitSql("SET statement_timeout = " + db.statementTimeout().toMillis());
        }
    }

    private static String seconds(java.time.Duration d) {
        return Long.toString(Math.max(1, (d.toMillis() + 999) / 1000));
    }

    @Bean
    static BeanPostProcessor trentDatabaseTimeouts(Environment environment) {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String beanName) {
                if (bean instanceof HikariDataSource ds && !ds.isRunning() && !ds.isClosed()) {
                    try {
                        apply(ds, Binder.get(environment).bindOrCreate("trent.database",
                                TrentProperties.Database.class));
                    } catch (IllegalStateException sealed) {
                        log.warn("The pool {} was started before trent.database.* could be applied", beanName);
                    }
                }
                return bean;
            }
        };
    }
}
