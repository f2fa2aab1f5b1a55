package dev.trent.inventory;

import java.time.Instant;

import org.springframework.stereotype.Component;

/**
 * Revocation's port to certificate state: revoke, change a reason, release a hold, block a key
 * and abandon its issuances in flight. Only {@code dev.trent.revocation} uses it
 * ({@code StorePortsTest}); every other change of status goes through its RevocationService. The
 * statements are {@link CertificateStore}'s.
 */
@Component
public class CertificateRevocations {

    private final CertificateStore store;

    CertificateRevocations(CertificateStore store) {
        this.store = store;
    }

    /** See {@link CertificateStore#revoke}. */
    public void revoke(long id, Instant at, String reason, Instant invalidityDate) {
        store.revoke(id, at, reason, invalidityDate);
    }

    /** See {@link CertificateStore#changeReason}. */
    public void changeReason(long id, String reason, Instant invalidityDate) {
        store.changeReason(id, reason, invalidityDate);
    }

    /** See {@link CertificateStore#release}. */
    public void release(long id) {
        store.release(id);
    }

    /** See {@link CertificateStore#blockKey}. */
    public boolean blockKey(String keyHash, Instant at, String serial, String actor) {
        return store.blockKey(keyHash, at, serial, actor);
    }

    /** See {@link CertificateStore#abandonPendingOfKey}. */
    public int abandonPendingOfKey(String keyHash) {
        return store.abandonPendingOfKey(keyHash);
    }
}
