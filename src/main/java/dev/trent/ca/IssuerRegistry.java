package dev.trent.ca;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.bouncycastle.operator.ContentSigner;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;
import dev.trent.pki.KeyIds;
import dev.trent.pki.Pem;

/**
 * The issuers Trent knows. The active one (whose key is loaded) is recorded in PostgreSQL at
 * start, with its chain, so that certificates can reference it. Issuers that were active
 * before (the CA was replaced) stay known from the database: their certificates still render
 * with their chain and their caIssuers URL still answers; they cannot sign. Publishing status
 * for retired issuers comes with issuer rotation.
 */
@Component
public class IssuerRegistry {

    private final Issuer active;
    private final JdbcTemplate jdbc;
    private final URI base;
    private final Map<String, Optional<Issuer>> retired = new ConcurrentHashMap<>();

    IssuerRegistry(CaSigner signer, TrentProperties properties, JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.base = properties.publicBaseUrl();
        X509Certificate cert = signer.issuerCertificate();
        this.active = issuer(HexFormat.of().formatHex(KeyIds.subjectKeyId(cert)), signer);
        try {
            // "on conflict do nothing": two instances may start at once.
            jdbc.update("insert into issuer (id, subject_dn, certificate_der, chain_pem, not_after, created_at, key_ref) "
                    + "values (?, ?, ?, ?, ?, ?, ?) on conflict (id) do update set key_ref = "
                    + "coalesce(excluded.key_ref, issuer.key_ref)", active.id(),
                    cert.getSubjectX500Principal().getName(), cert.getEncoded(), Pem.certificates(signer.chain()),
                    Timestamp.from(cert.getNotAfter().toInstant()), Timestamp.from(clock.instant()),
                    signer.keyReference());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("issuer certificate cannot be encoded", e);
        }
    }

    private Issuer issuer(String id, CaSigner signer) {
        return new Issuer(id, signer, URI.create(base + "/crl/" + id + ".crl"), URI.create(base + "/ocsp"),
                URI.create(base + "/ca/" + id + ".crt"));
    }

    public Issuer active() {
        return active;
    }

    /** Every issuer that publishes status (CRLs, OCSP): today, the active one. */
    public List<Issuer> all() {
        return List.of(active);
    }

    /** The active issuer, or a retired one known from the database (read-only). */
    public Optional<Issuer> byId(String id) {
        if (active.id().equals(id)) {
            return Optional.of(active);
        }
        if (id == null || !id.matches("[0-9a-f]{2,64}")) {
            return Optional.empty();
        }
        return retired.computeIfAbsent(id, this::loadRetired);
    }

    private Optional<Issuer> loadRetired(String id) {
        List<String> pem = jdbc.queryForList("select chain_pem from issuer where id = ?", String.class, id);
        if (pem.isEmpty() || pem.get(0) == null) {
            return Optional.empty();
        }
        return Optional.of(issuer(id, new RetiredSigner(id, parseChain(pem.get(0), id))));
    }

    /**
     * The chain PostgreSQL recorded for the newest issuer whose key has this reference, or null.
     * Runs before the registry exists (a degraded start needs it to build the signer).
     */
    static List<X509Certificate> recordedChain(JdbcTemplate jdbc, String keyReference) {
        List<Map<String, Object>> rows = jdbc.queryForList("select id, chain_pem from issuer where key_ref = ? "
                + "and chain_pem is not null order by created_at desc limit 1", keyReference);
        if (rows.isEmpty()) {
            return null;
        }
        return parseChain((String) rows.get(0).get("chain_pem"), (String) rows.get(0).get("id"));
    }

    private static List<X509Certificate> parseChain(String pem, String id) {
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> chain = new ArrayList<>();
            for (java.security.cert.Certificate c : cf.generateCertificates(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
                chain.add((X509Certificate) c);
            }
            return chain;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("stored chain of issuer " + id + " cannot be read", e);
        }
    }

    /** A former issuer: its chain is known, its key is not loaded. */
    private record RetiredSigner(String id, List<X509Certificate> chain) implements CaSigner {
        @Override
        public ContentSigner contentSigner() {
            throw new SigningException("issuer " + id + " is retired; its key is not loaded", null);
        }
    }
}
