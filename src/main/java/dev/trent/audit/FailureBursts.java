package dev.trent.audit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;

/**
 * Turns failed authentications into audit events without letting an attacker flood the log:
 * failures are counted per source address over a one-minute window, and the
 * {@code trent.audit.failure-burst}-th failure within it writes one {@code auth.failure-burst}
 * event (then again after the window ends). Single failures stay in the application log.
 */
@Component
public class FailureBursts {

    private static final Duration WINDOW = Duration.ofMinutes(1);
    private static final int MAX_TRACKED = 10_000;

    private record Window(Instant start, int failures) {
    }

    private final Map<String, Window> windows = new ConcurrentHashMap<>();
    private volatile Instant lastPrune = Instant.EPOCH;
    private final AuditLog audit;
    private final Clock clock;
    private final int threshold;

    FailureBursts(AuditLog audit, Clock clock, TrentProperties properties) {
        this.audit = audit;
        this.clock = clock;
        this.threshold = properties.audit().failureBurst();
    }

    /**
     * Records one failed authentication from {@code address} ({@code kind}: e.g.
     * {@code api-key}); writes the audit event when it completes a burst.
     */
    public void failed(String address, String kind) {
        Instant now = clock.instant();
        String key = address + "|" + kind;
        if (windows.size() >= MAX_TRACKED && !windows.containsKey(key)) {
            // Prune at most once a second; past the bound, new addresses share one counter
            // (memory and time stay bounded whatever the number of sources).
            if (lastPrune.plusSeconds(1).isBefore(now)) {
                lastPrune = now;
                windows.entrySet().removeIf(e -> e.getValue().start().plus(WINDOW).isBefore(now));
            }
            if (windows.size() >= MAX_TRACKED) {
                key = "*|" + kind;
                address = "many addresses";
            }
        }
        Window w = windows.compute(key, (k, old) -> old == null || old.start().plus(WINDOW)
                .isBefore(now) ? new Window(now, 1) : new Window(old.start(), old.failures() + 1));
        if (w.failures() == threshold) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("remoteAddress", address);
            details.put("credential", kind);
            details.put("failures", threshold);
            details.put("windowStart", w.start().toString());
            try {
                audit.recordStandalone("anonymous:" + address, "auth.failure-burst", address, details);
            } catch (RuntimeException e) {
                // The refusal itself stands; a lost record is logged, not turned into a 500.
                org.slf4j.LoggerFactory.getLogger(FailureBursts.class).error("Could not record a failure burst", e);
            }
        }
    }
}
