package dev.trent.console;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code trent.console.*}: the operator console's sessions.
 *
 * @param idleTimeout     a session unused this long ends (the servlet session's inactivity limit)
 * @param absoluteTimeout a session ends this long after its login, however busy
 */
@ConfigurationProperties("trent.console")
record ConsoleProperties(@DefaultValue("15m") Duration idleTimeout, @DefaultValue("8h") Duration absoluteTimeout) {

    ConsoleProperties {
        if (idleTimeout.isNegative() || idleTimeout.isZero() || absoluteTimeout.isNegative()
                || absoluteTimeout.isZero()) {
            throw new IllegalArgumentException("trent.console.idle-timeout and absolute-timeout must be positive");
        }
    }
}
