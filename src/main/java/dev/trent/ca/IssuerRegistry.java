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
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.bouncycastle.operator.ContentSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.audit.AuditLog;
import dev.trent.config.TrentProperties;
import dev.trent.pki.KeyIds;
import dev.trent.pki.Pem;
import dev.trent.domain.DomainException;

/**
 * The issuers Trent knows, and which one is active.
 *
 * <ul>
 *   <li><b>Active</b>: signs new certificates. Exactly one, recorded in PostgreSQL
 *       ({@code issuer.state}), so every instance agrees; an instance learns of a rotation made
 *       on another within {@code trent.ca.issuer-poll-interval} and loads that issuer's key from
 *       its own configured container by the recorded label.</li>
 *   <li><b>Retired, key loaded</b>: a former active issuer whose key is still in the container.
 *       It keeps publishing CRLs and answering OCSP while any certificate it issued is unexpired.</li>
 *   <li><b>Retired, key gone</b> (the CA was switched by configuration to another container, or
 *       the key was removed after a rotation): known read-only from PostgreSQL; its certificates
 *       still render with their chain and its caIssuers URL answers; it cannot sign. OCSP keeps
 *       answering for it with a persisted delegated responder while one is valid (see
 *       {@link #answering()}), and its last CRL, signed before the key left, is served.</li>
 * </ul>
 *
 * At start the configured key is registered. PostgreSQL's active issuer stays active when this
 * instance can load its key (it was rotated to through the API); otherwise the configured key
 * becomes active (a first start, or a CA switched by configuration).
 */
@Component
public class IssuerRegistry {

    private static final Logger log = LoggerFactory.getLogger(IssuerRegistry.class);
    /** How often the set of publishing issuers is recomputed (it changes as certificates expire). */
    private static final Duration PUBLISHING_REFRESH = Duration.ofMinutes(1);

    private final JdbcTemplate jdbc;
    /** Certificate state (delivered, unexpired) of retired issuers. */
    private final LiveCertificates certificates;
    private final URI base;
    private final Clock clock;
    private final CaKeySource source;
    private final TransactionTemplate tx;
    private final AuditLog audit;
    /** Issuers whose key this instance holds, by id. */
    private final Map<String, Issuer> loaded = new ConcurrentHashMap<>();
    /** Issuers known only from PostgreSQL (no key here), by id. */
    private final Map<String, Optional<Issuer>> readOnly = new ConcurrentHashMap<>();
    /** URL ids resolved to issuer ids (only those that exist). */
    private final Map<String, String> byPrefix = new ConcurrentHashMap<>();
    private volatile Issuer active;
    private volatile List<Issuer> publishing;
    /** {@link #publishing} plus retired issuers without their key here that still have unexpired certificates. */
    private volatile List<Issuer> answering = List.of();
    /** Per retired issuer: the last notAfter of its unexpired delivered certificates (see {@link #retiredUntil}). */
    private volatile Map<String, Instant> retiredUntil = Map.of();
    private final org.springframework.context.ApplicationEventPublisher events;
    private volatile Instant publishingComputed = Instant.EPOCH;
    private volatile String unloadableActive;
    /** When loading an issuer's key last failed: retried at most every {@link #RETRY_LOAD}. */
    private final Map<String, Instant> loadFailures = new ConcurrentHashMap<>();
    private static final Duration RETRY_LOAD = Duration.ofSeconds(30);

    private final SignerMetrics signerMetrics;

    IssuerRegistry(CaSigner configured, CaKeySource source, TrentProperties properties, JdbcTemplate jdbc, Clock clock,
            TransactionTemplate tx, AuditLog audit, SignerMetrics signerMetrics,
            LiveCertificates certificates, org.springframework.context.ApplicationEventPublisher events) {
        this.signerMetrics = signerMetrics;
        this.certificates = certificates;
        this.events = events;
        this.jdbc = jdbc;
        this.base = properties.publicBaseUrl();
        this.clock = clock;
        this.source = source;
        this.tx = tx;
        this.audit = audit;
        Issuer mine = issuer(configured);
        register(mine, source.defaultLabel());
        loaded.put(mine.id(), mine);
        this.active = mine;
        decideActiveAtStart(mine);
        refreshPublishing();
        checkRetiredKeys(properties.ca().retiredIssuerWithoutKey());
    }

    /** Trent's own certificates (replaced from the active issuer): not what a retired issuer must keep answering for. */
    private static final List<String> OWN_PROFILES = List.of("tls-server", "ocsp-responder");

    /**
     * Sent (synchronously, after the activation committed) when an issuer stops being the active
     * one through this instance's {@link #rotate}: while its key is still here, its final CRL
     * and its long-lived delegated OCSP responder are made.
     */
    public record IssuerRetired(Issuer issuer) {
    }

    /** A retired issuer whose key this instance cannot load, and what still depends on it. */
    public record Orphaned(String issuerId, String keyLabel, long unexpiredCertificates, Instant lastNotAfter) {
    }

    /**
     * Retired issuers that still have unexpired delivered certificates (Trent's own TLS and OCSP
     * responder certificates do not count: they are replaced from the active issuer) but whose key is not
     * loaded here: their CRL cannot be renewed (relying parties that need a fresh CRL refuse
     * those certificates once the last one's nextUpdate passes), and OCSP answers for them only
     * while a persisted delegated responder certificate is valid, then {@code unauthorized}.
     */
    public List<Orphaned> retiredWithoutKey() {
        List<Orphaned> out = new ArrayList<>();
        for (Row r : rows()) {
            if ("ACTIVE".equals(r.state()) || loaded.containsKey(r.id())) {
                continue;
            }
            LiveCertificates.Live live = certificates.live(r.id(), clock.instant(), OWN_PROFILES);
            if (live.count() > 0) {
                out.add(new Orphaned(r.id(), r.keyLabel(), live.count(), live.lastNotAfter()));
            }
        }
        return out;
    }

    /** At start: a retired issuer without its key fails the start ({@code fail}) or is logged as an ERROR. */
    void checkRetiredKeys(TrentProperties.RetiredKeyPolicy policy) {
        List<Orphaned> orphaned = retiredWithoutKey();
        if (orphaned.isEmpty()) {
            return;
        }
        StringBuilder what = new StringBuilder();
        for (Orphaned o : orphaned) {
            what.append(System.lineSeparator()).append("  issuer ").append(o.issuerId()).append(" (key '")
                    .append(o.keyLabel()).append("'): ").append(o.unexpiredCertificates())
                    .append(" unexpired certificate(s), the last valid until ").append(o.lastNotAfter());
        }
        String message = "Retired issuer key(s) missing from " + source.describe() + ":" + what
                + System.lineSeparator() + "Their CRLs cannot be renewed (the last one is served until its nextUpdate), and OCSP answers "
                + "for their certificates only while a persisted responder certificate is valid (health 'ocspResponders' "
                + "shows until when), then 'unauthorized'. Put the key back (the label above), or revoke and replace "
                + "those certificates; "
                + "trent.ca.retired-issuer-without-key=fail refuses to start in this state.";
        if (policy == TrentProperties.RetiredKeyPolicy.FAIL) {
            throw new IllegalStateException(message);
        }
        log.error(message);
    }

    private Issuer issuer(CaSigner signer) {
        String id = HexFormat.of().formatHex(KeyIds.subjectKeyId(signer.issuerCertificate()));
        return issuer(id, signer);
    }

    private Issuer issuer(String id, CaSigner signer) {
        CaSigner metered = signer instanceof RetiredSigner ? signer : signerMetrics.wrap(id, signer);
        KeyStatus key = KeyStatus.of(signer);
        String urlId = urlId(id);
        return new Issuer(id, metered, key, URI.create(base + "/crl/" + urlId + ".crl"), URI.create(base + "/ocsp"),
                URI.create(base + "/ca/" + urlId + ".crt"));
    }

    /** The shortest prefix of an issuer id that its URLs use. */
    static final int URL_ID_MIN = 8;

    /**
     * How the issuer's URLs name it: the shortest prefix of its id, at least {@value #URL_ID_MIN}
     * hex digits (32 bits of its key identifier), that no issuer recorded before it begins with.
     * Every byte of a URL is written into each certificate that a device keeps in flash and
     * sends in every handshake; the whole id (used in URLs before) still resolves, see
     * {@link #byId}. Stable: issuers are only ever added, and an issuer's prefix depends only on
     * those recorded before it.
     */
    private String urlId(String id) {
        if (id.length() <= URL_ID_MIN) {
            return id;
        }
        List<String> earlier = jdbc.queryForList("select id from issuer where id <> ? and (not exists "
                + "(select 1 from issuer where id = ?) or (created_at, id) < (select created_at, id from issuer "
                + "where id = ?))", String.class, id, id, id);
        int length = URL_ID_MIN;
        while (length < id.length() && startsWithAny(earlier, id.substring(0, length))) {
            length++;
        }
        return id.substring(0, length);
    }

    private static boolean startsWithAny(List<String> ids, String prefix) {
        for (String other : ids) {
            if (other.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** Records the issuer (chain, key reference and label); "on conflict": two instances may start at once. */
    private void register(Issuer issuer, String keyLabel) {
        X509Certificate cert = issuer.certificate();
        try {
            jdbc.update("insert into issuer (id, subject_dn, certificate_der, chain_pem, not_after, created_at, key_ref, "
                    + "key_label) values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (id) do update set "
                    + "key_ref = coalesce(excluded.key_ref, issuer.key_ref), "
                    + "key_label = coalesce(excluded.key_label, issuer.key_label)", issuer.id(),
                    cert.getSubjectX500Principal().getName(), cert.getEncoded(), Pem.certificates(issuer.signer().chain()),
                    Timestamp.from(cert.getNotAfter().toInstant()), Timestamp.from(clock.instant()),
                    issuer.key().keyReference(), keyLabel);
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("issuer certificate cannot be encoded", e);
        }
    }

    private record Row(String id, String state, String keyLabel, String keyRef) {
    }

    private List<Row> rows() {
        return jdbc.query("select id, state, key_label, key_ref from issuer order by created_at",
                (rs, n) -> new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
    }

    /** Whether a recorded key lives in the container this instance is configured with. */
    private boolean inMyContainer(Row row) {
        String container = source.containerReference();
        return row.keyRef() != null && (row.keyRef().startsWith(container + "#")
                || row.keyRef().startsWith(container + ";"));
    }

    private void decideActiveAtStart(Issuer configured) {
        List<Row> rows = rows();
        for (Row r : rows) {
            if (!r.id().equals(configured.id()) && r.keyLabel() != null && !"ACTIVE".equals(r.state())) {
                tryLoad(r); // a former issuer whose key is still here keeps publishing
            }
        }
        Row dbActive = rows.stream().filter(r -> "ACTIVE".equals(r.state())).findFirst().orElse(null);
        if (dbActive != null && dbActive.id().equals(configured.id())) {
            return;
        }
        Issuer rotatedTo = dbActive == null ? null : tryLoad(dbActive);
        if (rotatedTo != null) {
            active = rotatedTo;
            log.info("Active issuer {} (rotated to through the API; the configured key '{}' is kept for status)",
                    rotatedTo.certificate().getSubjectX500Principal(), source.defaultLabel());
            return;
        }
        if (dbActive != null && (inMyContainer(dbActive) || !configured.key().available())) {
            // The active issuer's key should be here but cannot be loaded (a container that is
            // unavailable, or this instance is provisioned differently from the others): never
            // change what every instance issues with because of that. Show the recorded issuer,
            // answer 503 for issuance, and load its key once possible.
            active = byId(dbActive.id()).orElse(configured);
            unloadableActive = dbActive.id();
            log.error("The active issuer {} (key '{}') cannot be loaded from {}; this instance cannot issue until it "
                    + "can", dbActive.id(), dbActive.keyLabel(), source.describe());
            return;
        }
        // No active issuer yet (a first start), or its key lived in another container: the CA was
        // switched by configuration.
        if (!activate(configured, "system:configuration", dbActive == null ? null : dbActive.id(),
                source.defaultLabel())) {
            refresh();
        }
    }

    /** Loads a known issuer's key by its recorded label, or null when this container lacks it. */
    private Issuer tryLoad(Row row) {
        Issuer known = loaded.get(row.id());
        if (known != null) {
            return known;
        }
        if (row.keyLabel() == null) {
            return null;
        }
        Instant failed = loadFailures.get(row.id());
        if (failed != null && clock.instant().isBefore(failed.plus(RETRY_LOAD))) {
            return null;
        }
        try {
            if (!source.labels().contains(row.keyLabel())) {
                loadFailures.put(row.id(), clock.instant());
                return null;
            }
            CaSigner signer = source.load(row.keyLabel());
            Issuer issuer = issuer(signer);
            if (!issuer.id().equals(row.id())) {
                log.warn("Key '{}' in {} now belongs to issuer {}, not {}; not loaded", row.keyLabel(),
                        source.describe(), issuer.id(), row.id());
                return null;
            }
            loaded.put(issuer.id(), issuer);
            readOnly.remove(issuer.id());
            return issuer;
        } catch (CaUnavailableException e) {
            loadFailures.put(row.id(), clock.instant());
            log.warn("Issuer {} (key '{}') cannot be loaded from {}: {}", row.id(), row.keyLabel(), source.describe(),
                    e.getMessage());
            return null;
        }
    }

    /**
     * Makes {@code issuer} the only active one, in PostgreSQL, with an audit event; then here.
     * Compare-and-set: only if {@code previous} (null: none) is still the active one, so that two
     * instances or two operators cannot both win.
     *
     * @return false when another activation came first (nothing changed)
     */
    private boolean activate(Issuer issuer, String actor, String previous, String keyLabel) {
        Boolean done = tx.execute(status -> {
            List<String> current = jdbc.queryForList("select id from issuer where state = 'ACTIVE' for update",
                    String.class);
            String now = current.isEmpty() ? null : current.get(0);
            if (!java.util.Objects.equals(now, previous)) {
                return false;
            }
            jdbc.update("update issuer set state = 'RETIRED' where state = 'ACTIVE' and id <> ?", issuer.id());
            jdbc.update("update issuer set state = 'ACTIVE', activated_at = ? where id = ? and state <> 'ACTIVE'",
                    Timestamp.from(clock.instant()), issuer.id());
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("previous", previous);
            details.put("keyLabel", keyLabel);
            details.put("subject", issuer.certificate().getSubjectX500Principal().getName());
            audit.record(actor, "issuer.activated", issuer.id(), details);
            return true;
        });
        if (!Boolean.TRUE.equals(done)) {
            return false;
        }
        active = issuer;
        unloadableActive = null;
        publishingComputed = Instant.EPOCH;
        return true;
    }

    /**
     * Rotation: makes the key with this label in the configured container the active issuer,
     * on every instance. Idempotent. Refuses a key that does not chain to the current root
     * unless {@code allowNewRoot} (relying parties that trust only the old root would reject
     * everything the new issuer signs).
     */
    public synchronized Issuer rotate(String keyLabel, boolean allowNewRoot, String actor) {
        if (keyLabel == null || keyLabel.isBlank()) {
            throw new DomainException(DomainException.Kind.INVALID, "invalid-request", "Invalid request",
                    "keyLabel is required: the label (alias) of the new issuer's key in " + source.describe() + ".");
        }
        Issuer next = loadedWithLabel(keyLabel);
        if (next == null) {
            try {
                CaSigner signer = source.load(keyLabel);
                next = loaded.getOrDefault(issuer(signer).id(), issuer(signer));
            } catch (CaUnavailableException e) {
                throw new DomainException(DomainException.Kind.CONFLICT, "issuer-key-unavailable", "Issuer key unavailable",
                        e.getMessage());
            }
        }
        refresh(); // act on what PostgreSQL says is active now, not on what this instance last saw
        Issuer current = active;
        if (next.id().equals(current.id())) {
            return current;
        }
        if (!allowNewRoot && !next.signer().rootCertificate().equals(current.signer().rootCertificate())) {
            throw new DomainException(DomainException.Kind.CONFLICT, "issuer-root-differs", "Different root",
                    "Key '" + keyLabel + "' chains to " + next.signer().rootCertificate().getSubjectX500Principal()
                            + ", not to the current root " + current.signer().rootCertificate().getSubjectX500Principal()
                            + ". Devices and relying parties that trust only the current root would reject its "
                            + "certificates; send allowNewRoot=true once they trust the new root.");
        }
        register(next, keyLabel);
        loaded.put(next.id(), next);
        if (!activate(next, actor, current.id(), keyLabel)) {
            throw new DomainException(DomainException.Kind.CONFLICT, "issuer-rotation-conflict", "Concurrent rotation",
                    "The active issuer changed while this rotation was being made; check GET /api/v1/issuers and "
                            + "retry if still wanted.");
        }
        log.info("Rotated the active issuer from {} to {} (key '{}')", current.certificate().getSubjectX500Principal(),
                next.certificate().getSubjectX500Principal(), keyLabel);
        lastDelivered.remove(current.id()); // it issued until now: read its last notAfter afresh
        refreshPublishing();
        if (loaded.containsKey(current.id())) {
            events.publishEvent(new IssuerRetired(current));
        } else {
            log.warn("The retired issuer {} has no key here: no long-lived OCSP responder and no final CRL were made "
                    + "for it (an instance that holds its key makes them within ten minutes)", current.id());
        }
        return next;
    }

    /** An issuer loaded here whose key has this label in PostgreSQL, or null. */
    private Issuer loadedWithLabel(String keyLabel) {
        for (String id : jdbc.queryForList("select id from issuer where key_label = ?", String.class, keyLabel)) {
            Issuer i = loaded.get(id);
            if (i != null) {
                return i;
            }
        }
        return null;
    }

    /** Follows a rotation made on another instance; recomputes which issuers publish. */
    @Scheduled(fixedDelayString = "${trent.ca.issuer-poll-interval:1s}")
    synchronized void refresh() {
        for (Issuer i : loaded.values()) {
            i.key().reconnectIfDue(); // a signer that lost its HSM comes back without traffic
        }
        Row dbActive = rows().stream().filter(r -> "ACTIVE".equals(r.state())).findFirst().orElse(null);
        if (dbActive != null && (!dbActive.id().equals(active.id()) || !loaded.containsKey(active.id()))) {
            Issuer now = tryLoad(dbActive);
            if (now != null) {
                log.info("Active issuer is now {} (rotated on another instance)", now.certificate().getSubjectX500Principal());
                active = now;
                unloadableActive = null;
                publishingComputed = Instant.EPOCH;
            } else if (!dbActive.id().equals(unloadableActive)) {
                unloadableActive = dbActive.id();
                log.error("Issuer {} was made active, but its key '{}' is not in {}; this instance keeps issuing with {}",
                        dbActive.id(), dbActive.keyLabel(), source.describe(), active.id());
            }
        }
        if (clock.instant().isAfter(publishingComputed.plus(PUBLISHING_REFRESH))) {
            refreshPublishing();
        }
    }

    /**
     * The active issuer, plus loaded retired ones that still have unexpired certificates
     * (publishing); and the retired issuers OCSP answers for (answering): those plus the ones
     * whose key is not here but whose delivered certificates are not all expired.
     */
    private void refreshPublishing() {
        Issuer current = active;
        List<Issuer> out = new ArrayList<>();
        List<Issuer> answers = new ArrayList<>();
        Map<String, Instant> until = new java.util.HashMap<>();
        out.add(current);
        Instant now = clock.instant();
        for (Row r : rows()) {
            if (r.id().equals(current.id())) {
                continue;
            }
            Instant delivered = lastDelivered(r.id(), now);
            if (delivered != null) {
                until.put(r.id(), delivered);
            }
            Issuer i = loaded.get(r.id());
            if (i != null) {
                if (certificates.hasLive(i.id(), now)) {
                    out.add(i);
                }
            } else if (delivered != null) {
                byId(r.id()).ifPresent(answers::add);
            }
        }
        answers.addAll(0, out);
        retiredUntil = Map.copyOf(until);
        publishing = List.copyOf(out);
        answering = List.copyOf(answers);
        publishingComputed = clock.instant();
    }

    /** A retired issuer's last delivered notAfter (null: none unexpired) and when it was read. */
    private record LastDelivered(Instant notAfter, Instant read) {
    }

    private final Map<String, LastDelivered> lastDelivered = new ConcurrentHashMap<>();
    /** How long a retired issuer's last notAfter is trusted: it only grows by an issuance in flight at the rotation. */
    private static final Duration LAST_DELIVERED_REFRESH = Duration.ofHours(1);

    /**
     * The last notAfter of the issuer's unexpired delivered certificates, or null. Read again only
     * when unknown, passed, or an hour old: a retired issuer issues nothing more, and on a large
     * inventory the read walks the not_after index past every newer certificate.
     */
    private Instant lastDelivered(String issuerId, Instant now) {
        LastDelivered known = lastDelivered.get(issuerId);
        if (known == null || now.isAfter(known.read().plus(LAST_DELIVERED_REFRESH))
                || known.notAfter() != null && !now.isBefore(known.notAfter())) {
            LiveCertificates.Live live = certificates.live(issuerId, now, OWN_PROFILES);
            known = new LastDelivered(live.count() == 0 ? null : live.lastNotAfter(), now);
            lastDelivered.put(issuerId, known);
        }
        return known.notAfter();
    }

    /**
     * Until when a retired issuer is still needed: the last notAfter of its unexpired delivered
     * certificates (Trent's own TLS and responder certificates not counted), read at the
     * rotation and again at most hourly (see {@link #lastDelivered}); empty for the active issuer
     * and for a retired one with nothing unexpired.
     */
    public Optional<Instant> retiredUntil(String issuerId) {
        all();
        return Optional.ofNullable(retiredUntil.get(issuerId));
    }

    /** Whether this instance holds the issuer's key (else it is known read-only from PostgreSQL). */
    public boolean keyLoaded(String issuerId) {
        return loaded.containsKey(issuerId);
    }

    /**
     * The issuers OCSP answers for: {@link #all()} (whose key is here), then retired issuers
     * whose key is not here but that still have unexpired delivered certificates (answered with
     * a persisted delegated responder while one is valid). A new list whenever it is recomputed.
     */
    public List<Issuer> answering() {
        all();
        return answering;
    }

    public Issuer active() {
        return active;
    }

    /**
     * The signing issuers: those that publish status with their own key here (CRLs, and the
     * certificates of their delegated OCSP responders): the active one and loaded retired ones
     * still needed. OCSP answers for more: {@link #answering()}.
     */
    public List<Issuer> all() {
        List<Issuer> p = publishing;
        if (!p.isEmpty() && p.get(0) != active) {
            refreshPublishing();
            p = publishing;
        }
        return p;
    }

    /** What an operator sees of an issuer. */
    public record Summary(String id, String subject, Instant notBefore, Instant notAfter, String state,
            Instant activatedAt, String keyLabel, boolean keyLoaded, boolean publishing) {
    }

    public List<Summary> summaries() {
        List<String> publishingIds = all().stream().map(Issuer::id).toList();
        return jdbc.query("select id, subject_dn, certificate_der, state, activated_at, key_label from issuer "
                + "order by created_at", (rs, n) -> {
                    String id = rs.getString(1);
                    Instant notBefore = null;
                    Instant notAfter = null;
                    try {
                        X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509")
                                .generateCertificate(new ByteArrayInputStream(rs.getBytes(3)));
                        notBefore = c.getNotBefore().toInstant();
                        notAfter = c.getNotAfter().toInstant();
                    } catch (GeneralSecurityException e) {
                        log.warn("stored certificate of issuer {} cannot be read", id);
                    }
                    Timestamp activated = rs.getTimestamp(5);
                    return new Summary(id, rs.getString(2), notBefore, notAfter, rs.getString(4),
                            activated == null ? null : activated.toInstant(), rs.getString(6), loaded.containsKey(id),
                            publishingIds.contains(id));
                });
    }

    /** A known issuer: loaded here (can sign), or known read-only from PostgreSQL. */
    public Optional<Issuer> byId(String id) {
        Issuer l = id == null ? null : loaded.get(id);
        if (l != null) {
            return Optional.of(l);
        }
        if (id == null || !id.matches("[0-9a-f]{2,64}")) {
            return Optional.empty();
        }
        Optional<Issuer> known = readOnly.get(id);
        if (known != null) {
            return known;
        }
        // Only issuers that exist are remembered: unknown ids (anyone can ask for /crl/<hex>.crl)
        // would otherwise grow the map without bound.
        Optional<Issuer> found = loadReadOnly(id);
        found.ifPresent(i -> readOnly.put(id, found));
        return found;
    }

    /**
     * The issuer that a URL names: by its whole id (as in certificates issued before URLs were
     * shortened) or by the prefix of it that its URLs use (see {@link #urlId}): the earliest
     * recorded issuer whose id begins with it. Resolved against the list of issuer ids in
     * memory (read again at most once a second when a name is not found), so that a request for
     * a name that exists nowhere (anyone can ask for {@code /crl/<hex>.crl}) costs no query.
     */
    public Optional<Issuer> byUrlId(String urlId) {
        if (urlId == null || !urlId.matches("[0-9a-f]{2,64}")) {
            return Optional.empty();
        }
        Issuer l = loaded.get(urlId);
        if (l != null) {
            return Optional.of(l);
        }
        String id = byPrefix.get(urlId);
        if (id == null) {
            id = resolveUrlId(issuerIds(false), urlId);
            if (id == null) {
                id = resolveUrlId(issuerIds(true), urlId);
            }
            if (id == null) {
                return Optional.empty();
            }
            byPrefix.put(urlId, id);
        }
        return byId(id);
    }

    /** The whole id that equals {@code urlId}, else the earliest whose prefix it is (8 digits or more). */
    private static String resolveUrlId(List<String> idsByAge, String urlId) {
        for (String id : idsByAge) {
            if (id.equals(urlId)) {
                return id;
            }
        }
        if (urlId.length() >= URL_ID_MIN) {
            for (String id : idsByAge) {
                if (id.startsWith(urlId)) {
                    return id;
                }
            }
        }
        return null;
    }

    private volatile List<String> issuerIdsByAge = List.of();
    private volatile Instant issuerIdsRead = Instant.EPOCH;

    /** Every recorded issuer's id, oldest first; {@code again}: read now unless read within a second. */
    private List<String> issuerIds(boolean again) {
        Instant now = clock.instant();
        if (issuerIdsByAge.isEmpty() || (again && now.isAfter(issuerIdsRead.plusSeconds(1)))) {
            issuerIdsByAge = List.copyOf(jdbc.queryForList("select id from issuer order by created_at, id",
                    String.class));
            issuerIdsRead = now;
        }
        return issuerIdsByAge;
    }

    private Optional<Issuer> loadReadOnly(String id) {
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
    private record RetiredSigner(String id, List<X509Certificate> chain) implements CaSigner, KeyStatus {
        @Override
        public boolean available() {
            return false;
        }

        @Override
        public String fault() {
            return "the key of issuer " + id + " is not loaded on this instance";
        }

        @Override
        public ContentSigner contentSigner() {
            throw new SigningException("issuer " + id + " is retired; its key is not loaded", null);
        }
    }
}
