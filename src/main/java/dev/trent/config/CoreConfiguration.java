package dev.trent.config;

import java.security.SecureRandom;
import java.time.Clock;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.annotation.EnableScheduling;

/** Time and randomness come from beans so that tests can be exact (DESIGN.md, principle 6). */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(TrentProperties.class)
@EnableScheduling
class CoreConfiguration {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    /** The platform CSPRNG (NativePRNG on Linux: /dev/urandom). Never java.util.Random. */
    @Bean
    SecureRandom secureRandom() {
        return new SecureRandom();
    }
}
