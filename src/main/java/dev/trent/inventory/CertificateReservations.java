package dev.trent.inventory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

import org.springframework.stereotype.Component;

/**
 * Issuance's port to certificate state: reserve a record (PENDING) before signing, store the
 * signed DER (ISSUED), abandon a reservation. Only {@code dev.trent.issuance} uses it
 * ({@code StorePortsTest}); the statements are {@link CertificateStore}'s.
 */
@Component
public class CertificateReservations {

    private final CertificateStore store;

    CertificateReservations(CertificateStore store) {
        this.store = store;
    }

    /** See {@link CertificateStore#reserve}. */
    public long reserve(CertificateStore.Pending pending) {
        return store.reserve(pending);
    }

    /** See {@link CertificateStore#storeSigned(long, byte[], String, Long, Instant, Supplier)}. */
    public void storeSigned(long id, byte[] der, String tbsSha256, Long tokenId, Instant at,
            Supplier<? extends RuntimeException> keyBlocked) {
        store.storeSigned(id, der, tbsSha256, tokenId, at, keyBlocked);
    }

    /** See {@link CertificateStore#abandon}. */
    public boolean abandon(long id) {
        return store.abandon(id);
    }

    /** See {@link CertificateStore#abandonPendingOlderThan}. */
    public List<CertificateStore.Abandoned> abandonPendingOlderThan(Duration age) {
        return store.abandonPendingOlderThan(age);
    }
}
