package dev.trent.issuance;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.audit.AuditLog;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.CertificateReservations;
import dev.trent.inventory.CertificateStore;

/**
 * Resolves reservations that a crash left PENDING (the JVM killed between the reservation and
 * the commit, PostgreSQL lost mid-request, a commit whose outcome was unknown): once reserved
 * longer than {@code trent.issuance.pending-timeout} ago by the database's clock (never an
 * instance's: a skewed instance cannot abandon another's live reservation early), they become
 * ABANDONED. Their certificates were never delivered (a response is written only after the
 * commit that makes a row ISSUED); a signature may exist, so OCSP answers revoked for them, and
 * their serials are never used again. Each one gets a {@code certificate.abandoned} audit event
 * in the transaction that abandons it: a crash's reservation is the one case where a signature
 * may exist that no other record explains, and an auditor looking up that serial finds why.
 * Any instance may sweep; the update is idempotent. A sweep reads the certificate rows from a
 * mark on (by the primary key) and moves the mark past the rows it settled, so it reads about
 * twice {@code pending-timeout} plus {@code sweep-interval} worth of issuances, whatever the table's size;
 * rows reserved by an instance older than the schema (a rolling upgrade) are found the same way
 * (V24, {@link CertificateStore}).
 */
@Component
class ReservationSweeper {

    private static final Logger log = LoggerFactory.getLogger(ReservationSweeper.class);

    private final CertificateReservations store;
    private final AuditLog audit;
    private final TransactionTemplate tx;
    private final Duration timeout;

    ReservationSweeper(CertificateReservations store, AuditLog audit, TransactionTemplate tx, TrentProperties properties) {
        this.store = store;
        this.audit = audit;
        this.tx = tx;
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

    /** Abandons every reservation PENDING for longer than the timeout, audited; returns their serials. */
    List<String> sweep() {
        List<CertificateStore.Abandoned> abandoned = tx.execute(status -> {
            List<CertificateStore.Abandoned> rows = store.abandonPendingOlderThan(timeout);
            for (CertificateStore.Abandoned row : rows) {
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("issuerId", row.issuerId());
                details.put("deviceId", row.deviceId());
                details.put("profile", row.profile());
                details.put("pendingTimeout", timeout.toString());
                audit.record("system", "certificate.abandoned", row.serial(), details);
            }
            return rows;
        });
        List<String> serials = abandoned.stream().map(CertificateStore.Abandoned::serial).toList();
        if (!serials.isEmpty()) {
            log.warn("Abandoned {} reservation(s) left pending for more than {} (an interrupted issuance; never "
                    + "delivered, answered as revoked by OCSP): {}", serials.size(), timeout,
                    serials.size() > 20 ? serials.subList(0, 20) + " ..." : serials);
        }
        return serials;
    }
}
