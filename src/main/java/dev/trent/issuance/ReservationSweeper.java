package dev.trent.issuance;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;

/**
 * Resolves reservations that a crash left PENDING (the JVM killed between the reservation and
 * the commit, PostgreSQL lost mid-request, a commit whose outcome was unknown): once older than
 * {@code trent.issuance.pending-timeout}, they become ABANDONED. Their certificates were never
 * delivered (a response is written only after the commit that makes a row ISSUED); a signature
 * may exist, so OCSP answers revoked for them, and their serials are never used again. Any
 * instance may sweep; the update is idempotent.
 */
@Component
class ReservationSweeper {

    private static final Logger log = LoggerFactory.getLogger(ReservationSweeper.class);

    private final CertificateStore store;
    private final Clock clock;
    private final Duration timeout;

    ReservationSweeper(CertificateStore store, Clock clock, TrentProperties properties) {
        this.store = store;
        this.clock = clock;
        this.timeout = properties.issuance().pendingTimeout();
    }

    @Scheduled(initialDelayString = "${trent.issuance.sweep-interval:1m}",
            fixedDelayString = "${trent.issuance.sweep-interval:1m}")
    void sweepScheduled() {
        try {
            sweep();
        } catch (RuntimeException e) {
            log.warn("Reservation sweep failed: {}", e.toString());
        }
    }

    /** Abandons every reservation PENDING for longer than the timeout; returns their serials. */
    List<String> sweep() {
        List<String> serials = store.abandonPendingBefore(clock.instant().minus(timeout));
        if (!serials.isEmpty()) {
            log.warn("Abandoned {} reservation(s) left pending for more than {} (an interrupted issuance; never "
                    + "delivered, answered as revoked by OCSP): {}", serials.size(), timeout,
                    serials.size() > 20 ? serials.subList(0, 20) + " ..." : serials);
        }
        return serials;
    }
}
