package dev.trent.ca;

import java.net.URI;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;
import dev.trent.pki.KeyIds;

/**
 * The issuers Trent knows, recorded in PostgreSQL at start so that certificates can reference
 * them. Today one issuer is active; issuer rotation (the HSM issue) adds older ones.
 */
@Component
public class IssuerRegistry {

    private final Issuer active;

    IssuerRegistry(CaSigner signer, TrentProperties properties, IssuerRepository repository, Clock clock) {
        X509Certificate cert = signer.issuerCertificate();
        String id = HexFormat.of().formatHex(KeyIds.subjectKeyId(cert));
        URI base = properties.publicBaseUrl();
        this.active = new Issuer(id, signer, URI.create(base + "/crl/" + id + ".crl"), URI.create(base + "/ocsp"),
                URI.create(base + "/ca/" + id + ".crt"));
        if (!repository.existsById(id)) {
            try {
                repository.saveAndFlush(new IssuerEntity(id, cert.getSubjectX500Principal().getName(),
                        cert.getEncoded(), cert.getNotAfter().toInstant(), clock.instant()));
            } catch (CertificateEncodingException e) {
                throw new IllegalStateException("issuer certificate cannot be encoded", e);
            }
        }
    }

    public Issuer active() {
        return active;
    }

    /** Every issuer that still publishes status (CRLs, OCSP): today, the active one. */
    public List<Issuer> all() {
        return List.of(active);
    }

    public Optional<Issuer> byId(String id) {
        return active.id().equals(id) ? Optional.of(active) : Optional.empty();
    }
}
