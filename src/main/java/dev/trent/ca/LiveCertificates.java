package dev.trent.ca;

import java.time.Instant;
import java.util.Collection;

/**
 * What the issuer registry asks of certificate state: whether a retired issuer still has
 * delivered, unexpired certificates. Implemented by the certificate store
 * ({@code dev.trent.inventory.CertificateStore}), declared here so that {@code ca} does not
 * depend on the inventory (which depends on {@code ca}).
 */
public interface LiveCertificates {

    /** How many delivered, unexpired certificates an issuer has, and the last notAfter among them. */
    record Live(long count, Instant lastNotAfter) {
    }

    /** Delivered certificates of the issuer unexpired at {@code at}, except those of {@code excludedProfiles}. */
    Live live(String issuerId, Instant at, Collection<String> excludedProfiles);

    /** Whether the issuer has any delivered certificate unexpired at {@code at}. */
    boolean hasLive(String issuerId, Instant at);
}
