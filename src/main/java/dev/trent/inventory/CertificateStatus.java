package dev.trent.inventory;

/**
 * A certificate record's state, as the {@code status} column holds it (V15's check constraint).
 * Only {@link CertificateStore} writes it.
 */
public enum CertificateStatus {
    /**
     * Reserved: the row (serial, TBS hash) is committed before the signature; the DER follows in
     * the issuing request's transaction. Never served, listed or delivered.
     */
    PENDING,
    ISSUED,
    REVOKED,
    /**
     * A reservation whose issuance did not complete (rolled back, or left PENDING by a crash and
     * found by the sweeper). Never delivered; a signature may exist, so OCSP answers revoked
     * (RFC 6960 2.2); the serial is never used again.
     */
    ABANDONED;

    /** This status as an SQL literal ({@code 'ISSUED'}), for the statements of {@link CertificateStore}. */
    String sql() {
        return "'" + name() + "'";
    }

    /** A certificate that was delivered: listed, served, revocable. */
    public boolean delivered() {
        return this == ISSUED || this == REVOKED;
    }
}
