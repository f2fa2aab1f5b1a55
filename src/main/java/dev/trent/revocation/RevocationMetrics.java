package dev.trent.revocation;

import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code trent.revocations}: certificates that became revoked with a reason (a new revocation,
 * including bulk revocations and the certificates revoked with a compromised key, or a hold made
 * permanent, or a reason replaced by keyCompromise), tagged {@code reason}; and
 * {@code trent.revocations.released}: holds released. Counted when the transaction commits, one
 * synchronization per transaction however many certificates it changes.
 */
@Component
class RevocationMetrics {

    private static final int RELEASED = RevocationReason.values().length;

    private final Counter[] counters = new Counter[RELEASED + 1];

    RevocationMetrics(MeterRegistry registry) {
        for (RevocationReason r : RevocationReason.values()) {
            counters[r.ordinal()] = Counter.builder("trent.revocations").description("Certificates revoked, by reason")
                    .tag("reason", r.name()).register(registry);
        }
        counters[RELEASED] = Counter.builder("trent.revocations.released").description("Certificate holds released")
                .register(registry);
    }

    void revoked(RevocationReason reason) {
        add(reason.ordinal());
    }

    void released() {
        add(RELEASED);
    }

    private void add(int index) {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            counters[index].increment();
            return;
        }
        long[] pending = (long[]) TransactionSynchronizationManager.getResource(this);
        if (pending == null) {
            long[] tally = new long[counters.length];
            pending = tally;
            TransactionSynchronizationManager.bindResource(this, tally);
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCompletion(int status) {
                    TransactionSynchronizationManager.unbindResourceIfPossible(RevocationMetrics.this);
                    if (status == STATUS_COMMITTED) {
                        for (int i = 0; i < tally.length; i++) {
                            if (tally[i] > 0) {
                                counters[i].increment(tally[i]);
                            }
                        }
                    }
                }
            });
        }
        pending[index]++;
    }
}
