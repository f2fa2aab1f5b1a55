package dev.trent.web;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.task.SimpleAsyncTaskSchedulerCustomizer;
import org.springframework.boot.task.ThreadPoolTaskSchedulerCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.ErrorHandler;


/**
 * Background tasks ({@code @Scheduled}: pollers, relays, the audit seal) that fail because
 * PostgreSQL cannot be reached log one line every few seconds, not a stack trace per tick;
 * they run again on their next tick and carry on when the database is back. Other failures
 * are logged in full, as before.
 */
@Configuration(proxyBeanMethods = false)
class ScheduledErrors {

    private static final Logger log = LoggerFactory.getLogger(ScheduledErrors.class);

    static ErrorHandler handler(DatabaseUnavailable outage) {
        return e -> {
            if (DatabaseUnavailable.causedBy(e)) {
                outage.logged(e, "scheduled task");
            } else if (DatabaseUnavailable.timedOut(e)) {
                outage.timeoutLogged("scheduled task");
            } else {
                log.error("Unexpected error occurred in scheduled task", e);
            }
        };
    }

    @Bean
    ThreadPoolTaskSchedulerCustomizer databaseOutageQuietThreadPool(DatabaseUnavailable outage) {
        return scheduler -> scheduler.setErrorHandler(handler(outage));
    }

    @Bean
    SimpleAsyncTaskSchedulerCustomizer databaseOutageQuietSimple(DatabaseUnavailable outage) {
        return scheduler -> scheduler.setErrorHandler(handler(outage));
    }
}
