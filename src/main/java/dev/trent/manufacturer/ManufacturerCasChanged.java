package dev.trent.manufacturer;

/**
 * Published inside the transaction that registers or removes a manufacturer CA, by
 * {@link ManufacturerCas} itself (so the console's calls publish it as the API's do); listeners
 * act after the commit ({@code @TransactionalEventListener}), as the TLS listener does to name
 * the current set in its CertificateRequest.
 */
public record ManufacturerCasChanged() {
}
