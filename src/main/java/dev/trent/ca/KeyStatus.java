package dev.trent.ca;

/**
 * The state of an issuer's key, apart from signing with it ({@link CaSigner}): whether it can be
 * reached, why not, reconnecting when that is due, where it lives. Health, the 503 answers while
 * an HSM is away, and the issuer registry's reconnect loop use it; issuance does not.
 */
public interface KeyStatus {

    /** A key that is always there (a software key in memory). */
    KeyStatus ALWAYS = new KeyStatus() {
    };

    /** The status {@code signer} reports about itself, or {@link #ALWAYS}. */
    static KeyStatus of(CaSigner signer) {
        return signer instanceof KeyStatus status ? status : ALWAYS;
    }

    /** False while the key cannot be reached (an HSM fault); {@link CaSigner#contentSigner()} then fails fast. */
    default boolean available() {
        return true;
    }

    /** Why the key cannot be reached, or null. */
    default String fault() {
        return null;
    }

    /** While the key is unreachable, tries to reach it again if that is due; never throws. */
    default void reconnectIfDue() {
    }

    /** Where the key is, for logs and health details (never a secret). */
    default String describe() {
        return getClass().getSimpleName();
    }

    /** A stable reference to the key, recorded with the issuer in PostgreSQL (never a secret). */
    default String keyReference() {
        return null;
    }
}
