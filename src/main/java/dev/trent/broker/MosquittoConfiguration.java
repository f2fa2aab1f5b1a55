package dev.trent.broker;

import java.time.Clock;

import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.config.TrentProperties;

/** The Mosquitto sync exists only when {@code trent.mosquitto.url} is set; nothing is queued otherwise. */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${trent.mosquitto.url:}' != ''")
class MosquittoConfiguration {

    @Bean
    BrokerRelay brokerRelay(TrentProperties properties, JdbcTemplate jdbc, Clock clock, PlatformTransactionManager txm,
            dev.trent.inventory.CertificateStore certificates) {
        TrentProperties.Mosquitto settings = properties.mosquitto();
        return new BrokerRelay(settings, new BrokerOutbox(jdbc, clock, settings.profiles(), certificates), new TransactionTemplate(txm));
    }

    @Bean("mosquitto")
    MosquittoHealthIndicator mosquittoHealthIndicator(BrokerRelay relay) {
        return new MosquittoHealthIndicator(relay);
    }
}
