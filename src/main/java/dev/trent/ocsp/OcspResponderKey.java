package dev.trent.ocsp;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.ca.SigningException;
import dev.trent.config.TrentProperties;
import dev.trent.issuance.IssuanceService;
import dev.trent.pki.Hashes;
import dev.trent.pki.Providers;
import dev.trent.pki.SecretBox;

/**
 * The delegated OCSP responders (RFC 6960 4.2.2.2: a delegated responder is authorised by the CA
 * that issued the certificates it answers for): per issuer, a P-256 key (a software key,
 * whatever holds the CA key) and a certificate for it issued by that issuer.
 *
 * <p>Every responder is persisted ({@code ocsp_responder}, the private key sealed with
 * {@link SecretBox} under {@code trent.ocsp.responder-seal-key-file}), so instances and restarts
 * reuse a valid one instead of issuing another, and OCSP keeps answering for an issuer whose
 * key is gone while one of its responder certificates is valid. While the issuer's key is here,
 * a responder is replaced once half of its lifetime has passed
 * ({@code trent.ocsp.responder-validity}). A retired issuer whose key is here gets one more
 * responder, valid until its last unexpired certificate's notAfter (never beyond its own), at
 * the rotation, at start and every ten minutes while that is not covered: that responder answers
 * after the key is gone. Without a valid responder and without the key, there is none:
 * RFC 6960 2.3 {@code unauthorized} ("the server is not capable of responding authoritatively").
 */
@Component
public class OcspResponderKey {

    private static final Logger log = LoggerFactory.getLogger(OcspResponderKey.class);

    private final IssuanceService issuance;
    private final IssuerRegistry issuers;
    private final JdbcTemplate jdbc;
    private final SecretBox box;
    private final SecureRandom random;
    private final Clock clock;
    private final Duration validity;
    private final String name;
    private final Map<String, Responder> current = new ConcurrentHashMap<>();
    /** Issuers for which "no responder" was logged (once, until one is found again). */
    private final Set<String> reportedMissing = ConcurrentHashMap.newKeySet();
    /** Sealing key ids of persisted rows this key cannot open, logged once each. */
    private final Set<String> reportedForeignSeal = ConcurrentHashMap.newKeySet();

    /** The responder's key, certificate, and the certificate in Bouncy Castle's form. */
    public record Responder(Issuer issuer, KeyPair keys, X509Certificate certificate, X509CertificateHolder holder) {

        public ContentSigner signer() {
            try {
                return new JcaContentSignerBuilder("SHA256withECDSA").setProvider(Providers.signatures("SHA256withECDSA"))
                        .build(keys.getPrivate());
            } catch (OperatorCreationException e) {
                throw new IllegalStateException("OCSP responder key cannot sign", e);
            }
        }

        public Instant notAfter() {
            return certificate.getNotAfter().toInstant();
        }

        boolean validAt(Instant t) {
            return !t.isBefore(certificate.getNotBefore().toInstant()) && t.isBefore(notAfter());
        }

        @Override
        public String toString() {
            return "Responder[issuer=" + issuer.id() + ", serial=" + certificate.getSerialNumber().toString(16) + "]";
        }
    }

    OcspResponderKey(IssuanceService issuance, IssuerRegistry issuers, JdbcTemplate jdbc, SecureRandom random,
            Clock clock, TrentProperties properties) throws IOException {
        this.issuance = issuance;
        this.issuers = issuers;
        this.jdbc = jdbc;
        this.random = random;
        this.clock = clock;
        this.validity = properties.ocsp().responderValidity();
        Path sealKey = properties.ocsp().responderSealKeyFile() != null ? properties.ocsp().responderSealKeyFile()
                : properties.dataDir().resolve("ocsp-responder-seal.key");
        this.box = SecretBox.fromFile(sealKey, random);
        byte[] tag = new byte[4];
        random.nextBytes(tag);
        this.name = "Trent OCSP Responder " + HexFormat.of().formatHex(tag);
    }

    /**
     * The responder that signs answers for this issuer now: the one in memory while valid; else a
     * persisted one (while before its half-life, or at any age while the issuer's key is not
     * here); else a new one when the key is here.
     *
     * @return empty when the issuer's key is not here and no responder certificate is valid
     * @throws SigningException when a new one is needed and the issuer's key fails to sign
     */
    public Optional<Responder> current(Issuer issuer) {
        Instant now = clock.instant();
        Responder r = current.get(issuer.id());
        if (r != null && r.validAt(now)) {
            return Optional.of(r);
        }
        synchronized (this) {
            r = current.get(issuer.id());
            if (r != null && r.validAt(now)) {
                return Optional.of(r);
            }
            Responder chosen = choose(issuer, now);
            if (chosen == null) {
                current.remove(issuer.id());
                if (reportedMissing.add(issuer.id())) {
                    log.error("OCSP answers 'unauthorized' for issuer {}: its key is not loaded here and none of its "
                            + "delegated responder certificates is valid now{}; relying parties that require OCSP "
                            + "refuse its certificates (its retired-until: {})", issuer.id(),
                            r == null ? "" : " (the last one here expired at " + r.notAfter() + ")",
                            issuers.retiredUntil(issuer.id()).map(Instant::toString).orElse("nothing unexpired"));
                }
                return Optional.empty();
            }
            reportedMissing.remove(issuer.id());
            current.put(issuer.id(), chosen);
            return Optional.of(chosen);
        }
    }

    /**
     * The issuer's responder if there is one already: the one in memory while valid, else the
     * newest valid persisted one this instance can open. Never issues one, so that a page that
     * only shows the state (the console's overview) signs nothing on a GET; {@link #current}
     * issues when OCSP needs one.
     */
    public Optional<Responder> peek(Issuer issuer) {
        Instant now = clock.instant();
        Responder r = current.get(issuer.id());
        if (r != null && r.validAt(now)) {
            return Optional.of(r);
        }
        return Optional.ofNullable(newestPersisted(issuer, now));
    }

    private Responder choose(Issuer issuer, Instant now) {
        boolean canSign = issuers.keyLoaded(issuer.id());
        Responder persisted = newestPersisted(issuer, now);
        if (persisted != null && (!canSign || now.isBefore(halfLife(persisted.certificate())))) {
            return persisted;
        }
        if (!canSign) {
            return null;
        }
        try {
            return issue(issuer, validity);
        } catch (SigningException e) {
            if (persisted != null) {
                log.warn("OCSP responder for issuer {} not renewed ({}); the persisted one until {} answers",
                        issuer.id(), e.getMessage(), persisted.notAfter());
                return persisted;
            }
            throw e;
        }
    }

    private static Instant halfLife(X509Certificate c) {
        Instant notBefore = c.getNotBefore().toInstant();
        Instant notAfter = c.getNotAfter().toInstant();
        return notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
    }

    /**
     * What health shows of an issuer's responders: the latest notAfter of a valid one (in
     * memory or persisted), without issuing or unsealing anything; empty when none is valid.
     */
    Optional<Instant> validUntil(Issuer issuer) {
        Instant now = clock.instant();
        Responder r = current.get(issuer.id());
        Instant best = r != null && r.validAt(now) ? r.notAfter() : null;
        Timestamp persisted = jdbc.queryForObject("select max(not_after) from ocsp_responder where issuer_id = ? "
                + "and not_before <= ? and not_after > ?", Timestamp.class, issuer.id(), Timestamp.from(now),
                Timestamp.from(now));
        if (persisted != null && (best == null || persisted.toInstant().isAfter(best))) {
            best = persisted.toInstant();
        }
        return Optional.ofNullable(best);
    }

    /**
     * Replaces responders once half their lifetime has passed, while the issuer's key is here:
     * with a younger one another instance persisted, else a new one.
     */
    void rotateIfDue() {
        Instant now = clock.instant();
        for (Map.Entry<String, Responder> e : current.entrySet()) {
            Responder r = e.getValue();
            if (!now.isBefore(halfLife(r.certificate())) && issuers.keyLoaded(e.getKey())) {
                try {
                    Responder younger = newestPersisted(r.issuer(), now);
                    current.put(e.getKey(), younger != null && now.isBefore(halfLife(younger.certificate())) ? younger
                            : issue(r.issuer(), validity));
                } catch (RuntimeException ex) {
                    // The old one stays valid until its notAfter; the next check tries again.
                    log.warn("OCSP responder for issuer {} not renewed: {}", e.getKey(), ex.getMessage());
                }
            }
        }
    }

    /** Every ten minutes: renewals, the retired issuers' long-lived responders, and rows expired for a week removed. */
    @Scheduled(initialDelay = 600_000, fixedDelay = 600_000)
    void maintain() {
        rotateIfDue();
        coverRetired();
        try {
            jdbc.update("delete from ocsp_responder where not_after < ?",
                    Timestamp.from(clock.instant().minus(Duration.ofDays(7))));
        } catch (RuntimeException e) {
            log.warn("Expired OCSP responders not removed: {}", e.getMessage());
        }
    }

    @EventListener(ApplicationReadyEvent.class)
    void atStart() {
        coverRetired();
    }

    /** A rotation on this instance: the retired issuer's key is still here, so its long-lived responder is made now. */
    @EventListener
    void onRetired(IssuerRegistry.IssuerRetired event) {
        try {
            cover(event.issuer());
        } catch (RuntimeException e) {
            log.warn("OCSP responder for the retired issuer {} not issued yet: {}; retried every ten minutes while its "
                    + "key is here", event.issuer().id(), e.getMessage());
        }
    }

    /** {@link #cover} for every retired issuer whose key is here. */
    void coverRetired() {
        String active = issuers.active().id();
        for (Issuer issuer : issuers.all()) {
            if (!issuer.id().equals(active)) {
                try {
                    cover(issuer);
                } catch (RuntimeException e) {
                    log.warn("OCSP responder for the retired issuer {} not issued: {}", issuer.id(), e.getMessage());
                }
            }
        }
    }

    /**
     * Makes sure that a persisted responder of this retired issuer is valid until its last
     * unexpired delivered certificate's notAfter, issuing one with the issuer's key (still here)
     * when none is: after the key is gone, that one answers for the issuer. Its validity is
     * capped by the issuer certificate's own notAfter, which caps every certificate it issued.
     *
     * @return the responder issued, or null when none was needed
     */
    Responder cover(Issuer issuer) {
        Optional<Instant> until = issuers.retiredUntil(issuer.id());
        if (until.isEmpty() || !issuers.keyLoaded(issuer.id())) {
            return null;
        }
        Instant now = clock.instant();
        Timestamp have = jdbc.queryForObject("select max(not_after) from ocsp_responder where issuer_id = ? "
                + "and not_before <= ?", Timestamp.class, issuer.id(), Timestamp.from(now));
        Instant needed = until.get();
        Instant issuerNotAfter = issuer.certificate().getNotAfter().toInstant();
        if (needed.isAfter(issuerNotAfter)) {
            needed = issuerNotAfter;
        }
        if (have != null && !have.toInstant().isBefore(needed)) {
            return null;
        }
        // Issuance counts the validity from now truncated to the second: one second more covers it.
        Duration life = Duration.between(now.truncatedTo(ChronoUnit.SECONDS), needed).plusSeconds(1);
        Responder r = issue(issuer, life);
        log.info("OCSP responder certificate {} of retired issuer {} is valid until {}: OCSP answers for its "
                + "certificates with it after its key is gone", r.certificate().getSerialNumber().toString(16),
                issuer.id(), r.notAfter());
        return r;
    }

    private Responder issue(Issuer issuer, Duration life) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC", Providers.BC);
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair keys = g.generateKeyPair();
            byte[] spki = keys.getPublic().getEncoded();
            X509Certificate cert = issuance.issueOcspResponder(issuer, SubjectPublicKeyInfo.getInstance(spki),
                    Hashes.sha256Hex(spki), name, life);
            log.info("OCSP responder certificate {} issued to {} until {}", cert.getSerialNumber().toString(16), name,
                    cert.getNotAfter().toInstant());
            persist(issuer, keys.getPrivate(), cert);
            return new Responder(issuer, keys, cert, new X509CertificateHolder(cert.getEncoded()));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create the OCSP responder key", e);
        }
    }

    /** What a sealed responder key is bound to: its issuer and its certificate's serial. */
    private static String sealContext(String issuerId, String serialHex) {
        return "trent-ocsp-responder:" + issuerId + ":" + serialHex;
    }

    private void persist(Issuer issuer, PrivateKey key, X509Certificate cert) throws GeneralSecurityException {
        String serial = cert.getSerialNumber().toString(16);
        byte[] pkcs8 = key.getEncoded();
        try {
            byte[] sealed = box.seal(pkcs8, sealContext(issuer.id(), serial));
            jdbc.update("insert into ocsp_responder (issuer_id, serial, certificate_der, not_before, not_after, "
                    + "key_sealed, seal_key_id, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)", issuer.id(), serial,
                    cert.getEncoded(), Timestamp.from(cert.getNotBefore().toInstant()),
                    Timestamp.from(cert.getNotAfter().toInstant()), sealed, box.keyId(),
                    Timestamp.from(clock.instant()));
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /** The persisted responder of this issuer valid now with the latest notAfter that this instance can open. */
    private Responder newestPersisted(Issuer issuer, Instant now) {
        List<Map<String, Object>> rows = jdbc.queryForList("select serial, certificate_der, key_sealed, seal_key_id "
                + "from ocsp_responder where issuer_id = ? and not_before <= ? and not_after > ? "
                + "order by not_after desc limit 5", issuer.id(), Timestamp.from(now), Timestamp.from(now));
        for (Map<String, Object> row : rows) {
            String serial = (String) row.get("serial");
            String sealKeyId = (String) row.get("seal_key_id");
            if (!box.keyId().equals(sealKeyId)) {
                if (reportedForeignSeal.add(sealKeyId)) {
                    log.warn("OCSP responder {} of issuer {} is sealed with key {}, not this instance's {}: give every "
                            + "instance the same trent.ocsp.responder-seal-key-file", serial, issuer.id(), sealKeyId,
                            box.keyId());
                }
                continue;
            }
            byte[] pkcs8 = null;
            try {
                pkcs8 = box.open((byte[]) row.get("key_sealed"), sealContext(issuer.id(), serial));
                X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream((byte[]) row.get("certificate_der")));
                cert.verify(issuer.certificate().getPublicKey());
                PrivateKey key = KeyFactory.getInstance("EC", Providers.BC).generatePrivate(
                        new PKCS8EncodedKeySpec(pkcs8));
                KeyPair keys = new KeyPair(cert.getPublicKey(), key);
                if (!matches(keys) || !cert.getSerialNumber().toString(16).equals(serial)) {
                    throw new GeneralSecurityException("the key and the certificate do not belong together");
                }
                return new Responder(issuer, keys, cert, new X509CertificateHolder(cert.getEncoded()));
            } catch (GeneralSecurityException | IOException | RuntimeException e) {
                log.warn("OCSP responder {} of issuer {} cannot be used: {}", serial, issuer.id(), e.getMessage());
            } finally {
                if (pkcs8 != null) {
                    Arrays.fill(pkcs8, (byte) 0);
                }
            }
        }
        return null;
    }

    /** Whether the private key signs what the public key verifies. */
    private boolean matches(KeyPair keys) throws GeneralSecurityException {
        byte[] probe = "trent-ocsp-responder-probe".getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance("SHA256withECDSA", Providers.BC);
        s.initSign(keys.getPrivate(), random);
        s.update(probe);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("SHA256withECDSA", Providers.BC);
        v.initVerify(keys.getPublic());
        v.update(probe);
        return v.verify(sig);
    }
}
