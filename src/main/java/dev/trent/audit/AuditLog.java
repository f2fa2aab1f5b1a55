package dev.trent.audit;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.Map;

import org.springframework.stereotype.Component;
import org.springframework.transaction.IllegalTransactionStateException;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.config.WriteBehind;
import tools.jackson.databind.json.JsonMapper;

/**
 * Appends security-relevant events to the {@code audit_event} table, inside the caller's
 * transaction so that an event exists exactly when the action it records does (sent with the
 * transaction's other writes, at the latest just before it commits: {@link WriteBehind}). Once committed,
 * the sealer chains it ({@code AuditTrail.seal}, V7's {@code audit_chain_seal}, within about
 * {@code trent.audit.seal-interval}). Rows cannot be updated or deleted (triggers in V1 and V7,
 * and the {@code trent_app} role's grants). Never pass secrets here.
 */
@Component
public class AuditLog {

    private final WriteBehind writes;
    private final Clock clock;
    private final JsonMapper json;
    /**
     * {@link #recordStandalone}'s own transaction. Programmatic, so that this bean needs no proxy
     * and {@link #record}, called on every enrollment and revocation, is a plain call.
     */
    private final TransactionTemplate standalone;

    AuditLog(WriteBehind writes, Clock clock, PlatformTransactionManager transactions) {
        this.writes = writes;
        this.clock = clock;
        this.json = JsonMapper.builder().build();
        this.standalone = new TransactionTemplate(transactions);
        this.standalone.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
    }

    /**
     * @param actor   who did it: {@code api-key:<id>:<name>}, {@code device:<id>}, or {@code system}
     * @param action  a stable verb such as {@code certificate.issued}
     * @param subject what it was done to (a serial, a device id, a key id)
     * @param details further non-secret facts
     */
    public void record(String actor, String action, String subject, Map<String, ?> details) {
        // MANDATORY propagation, checked here rather than by a transaction interceptor on every
        // event (1-2% of an enrollment's CPU, bench/README.md).
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalTransactionStateException("an audit event is recorded inside the transaction of the "
                    + "action it records (or with recordStandalone)");
        }
        // Written with the transaction's other writes, just before its commit (WriteBehind): the
        // time is the event's, taken now; nothing reads an event in the transaction that records it.
        writes.add("insert into audit_event (occurred_at, actor, action, subject, details) values (?, ?, ?, ?, ?::jsonb)",
                Timestamp.from(clock.instant()), truncate(actor, 120), action, truncate(subject, 200),
                json.writeValueAsString(details));
    }

    /**
     * Records an event in a transaction of its own: for what happens outside (or instead of) a
     * committed action, such as a refused enrollment, whose own transaction rolls back.
     */
    public void recordStandalone(String actor, String action, String subject, Map<String, ?> details) {
        standalone.executeWithoutResult(status -> record(actor, action, subject, details));
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
