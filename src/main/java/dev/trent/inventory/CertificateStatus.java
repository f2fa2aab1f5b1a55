package dev.trent.inventory;

public enum CertificateStatus {
    /** Only inside the issuing transaction, before the DER exists; never committed. */
    PENDING,
    ISSUED,
    REVOKED
}
