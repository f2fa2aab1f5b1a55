package dev.trent.audit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;

import dev.trent.config.TrentProperties;

/**
 * Turns failed authentications into audit events without letting an attacker flood the log:
 * failures are counted per source address over a one-minute window, and the
 * {@code trent.audit.failure-burst}-th failure within it writes one {@code auth.failure-burst}
 * event (then again after the window ends). Single failures stay in the application log.
 *
 * <p>The windows live in a Caffeine map whose entries expire when their window ends (on the
 * injected Clock). Memory stays bounded whatever the number of sources: past
 * {@value #MAX_TRACKED} open windows, new addresses share one counter per credential kind
 * ("many addresses"), so a spray from many addresses still makes a burst event; the map's own
 * size limit is only a backstop above that.
 */
@Component
public class FailureBursts {

    private static final Logger log = LoggerFactory.getLogger(FailureBursts.class);
    private static final Duration WINDOW = Duration.ofMinutes(1);
    static final int MAX_TRACKED = 10_000;

    private record Window(Instant start, int failures) {

        /** The window is over once {@code now} is after its start plus a minute. */
        boolean over(Instant now) {
            return start.plus(WINDOW).isBefore(now);
        }
    }

    private final Cache<String, Window> cache;
    private final ConcurrentMap<String, Window> windows;
    private final AuditLog audit;
    private final Clock clock;
    private final int threshold;

    @Autowired
    FailureBursts(AuditLog audit, Clock clock, TrentProperties properties) {
        this(audit, clock, properties.audit().failureBurst());
    }

    FailureBursts(AuditLog audit, Clock clock, int threshold) {
        this.audit = audit;
        this.clock = clock;
        this.threshold = threshold;
        this.cache = Caffeine.newBuilder()
                .ticker(() -> nanos(clock.instant()))
                .executor(Runnable::run) // maintenance on the caller's thread: no pool, exact on a moved clock
                .maximumSize(MAX_TRACKED + 100L)
                .expireAfter(Expiry.<String, Window>writing((key, w) -> Duration.ofNanos(
                        nanos(w.start().plus(WINDOW)) - nanos(clock.instant()) + 1)))
                .build();
        this.windows = cache.asMap();
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    /**
     * Records one failed authentication from {@code address} ({@code kind}: e.g.
     * {@code api-key}); writes the audit event when it completes a burst.
     */
    public void failed(String address, String kind) {
        Instant now = clock.instant();
        String key = address + "|" + kind;
        if (windows.size() >= MAX_TRACKED && !windows.containsKey(key)) {
            cache.cleanUp(); // drops the windows that are over (otherwise done on later writes)
            if (windows.size() >= MAX_TRACKED) {
                key = "*|" + kind;
                address = "many addresses";
            }
        }
        Window w = windows.compute(key, (k, old) -> old == null || old.over(now) ? new Window(now, 1)
                : new Window(old.start(), old.failures() + 1));
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
                log.error("Could not record a failure burst", e);
            }
        }
    }
}
