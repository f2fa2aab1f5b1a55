package dev.trent.manufacturer;

/**
 * Published (synchronously, as a Spring application event) once a manufacturer CA was registered
 * or removed and committed, so that the TLS listener names the current set in its
 * CertificateRequest.
 */
public record ManufacturerCasChanged() {
}
