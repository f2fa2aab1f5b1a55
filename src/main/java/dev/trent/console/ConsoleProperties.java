package dev.trent.console;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code trent.console.*}: the operator console's sessions.
 *
 * @param idleTimeout     a session unused this long ends (by the injected Clock; see
 *                        ConsoleSecurityConfiguration.SessionLimits)
 * @param absoluteTimeout a session ends this long after its login, however busy
 * @param maxSessions     at most this many sessions at once (Tomcat's maxActiveSessions); a
 *                        login beyond it is refused until one ends
 */
@ConfigurationProperties("trent.console")
record ConsoleProperties(@DefaultValue("15m") Duration idleTimeout, @DefaultValue("8h") Duration absoluteTimeout,
        @DefaultValue("1000") int maxSessions) {

    ConsoleProperties {
        if (idleTimeout.isNegative() || idleTimeout.isZero() || absoluteTimeout.isNegative()
                || absoluteTimeout.isZero() || maxSessions < 1) {
            throw new IllegalArgumentException(
                    "trent.console.idle-timeout, absolute-timeout and max-sessions must be positive");
        }
    }
}
