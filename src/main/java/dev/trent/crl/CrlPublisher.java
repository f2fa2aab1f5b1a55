package dev.trent.crl;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.event.TransactionPhase;
import org.springframework.transaction.event.TransactionalEventListener;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.CertificateStore;
import dev.trent.pki.Hashes;
import dev.trent.revocation.RevocationReason;
import dev.trent.revocation.RevocationService;
import dev.trent.web.DatabaseUnavailable;

/**
 * Generates, stores and hands out each issuer's full CRL. A CRL is generated when none exists,
 * when the issuer's revocation state changed after the snapshot the current CRL was made from
 * (within {@code trent.crl.batch-delay} of a revocation on this instance, so bursts share one
 * CRL; within a tick on every other instance), and when half its validity has passed, well
 * before nextUpdate. The CRL is stored in PostgreSQL, so every instance serves the same bytes;
 * an advisory lock lets one instance generate at a time, which also keeps CRL numbers in
 * publication order.
 *
 * <p>Entries: every revoked (or held) certificate of the issuer that has not yet expired at
 * thisUpdate. Expired certificates drop off, as RFC 5280 5.1.2.6 permits.
 *
 * <p>A retired issuer's CRLs are final CRLs: their nextUpdate is the last notAfter of its
 * unexpired certificates ({@link IssuerRegistry#retiredUntil}), so the last CRL signed before its
 * key leaves stays valid for as long as any certificate depends on it. While the key is here a
 * revocation still produces a new CRL at once (higher number, the same or a later nextUpdate:
 * RFC 5280 5.1.2.5, "CRL issuers SHOULD issue CRLs with a nextUpdate time equal to or later than
 * all previous CRLs"); a rotation on this instance makes the retired issuer's first one at once.
 *
 * <p>With {@code trent.crl.publish-dir} set, each tick also hands the current CRLs to
 * {@link CrlFiles} whenever one of them is not the one last written there.
 */
@Component
public class CrlPublisher {

    private static final Logger log = LoggerFactory.getLogger(CrlPublisher.class);
    /** First key of pg_try_advisory_xact_lock(int, int) for CRL generation. */
    private static final int CRL_LOCK = 0x43524c;

    private final JdbcTemplate jdbc;
    private final CertificateStore certificates;
    private final TransactionTemplate snapshot;
    private final IssuerRegistry issuers;
    private final Clock clock;
    private final TrentProperties.Crl settings;
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, AtomicReference<PublishedCrl>> cache = new ConcurrentHashMap<>();
    private final CrlMetrics metrics;
    private final CrlFiles files;
    private final DatabaseUnavailable outage;
    /** The CRL number of each issuer as last written to the CRL files; touched by the scheduler only. */
    private Map<String, Long> filed = Map.of();

    CrlPublisher(JdbcTemplate jdbc, CertificateStore certificates, PlatformTransactionManager txm, IssuerRegistry issuers,
            Clock clock, TrentProperties properties, CrlMetrics metrics, CrlFiles files, DatabaseUnavailable outage) {
        this.metrics = metrics;
        this.outage = outage;
        this.files = files;
        this.jdbc = jdbc;
        this.certificates = certificates;
        this.snapshot = new TransactionTemplate(txm);
        // One snapshot for the change marker and the entries: the CRL states which change it includes.
        this.snapshot.setIsolationLevel(TransactionDefinition.ISOLATION_REPEATABLE_READ);
        this.issuers = issuers;
        this.clock = clock;
        this.settings = properties.crl();
    }

    /** A published CRL: its DER and what HTTP caching needs. */
    public record PublishedCrl(String issuerId, long number, Instant thisUpdate, Instant nextUpdate, int entries,
            String sha256, byte[] der) {
    }

    /** A rotation on this instance: the retired issuer's final CRL is made now, while its key is surely here. */
    @org.springframework.context.event.EventListener
    void onRetired(IssuerRegistry.IssuerRetired event) {
        try {
            generate(event.issuer());
        } catch (RuntimeException e) {
            log.warn("Final CRL of the retired issuer {} not generated yet: {}; retried at the next tick",
                    event.issuer().id(), e.getMessage());
        }
    }

    @TransactionalEventListener(phase = TransactionPhase.AFTER_COMMIT)
    void onRevocationChanged(RevocationService.RevocationChanged event) {
        dirty.add(event.issuerId());
    }

    /**
     * The names for an issuingDistributionPoint ({@code trent.crl.issuing-distribution-point}):
     * every URL this issuer's certificates carry in their CDP, the short one and, for
     * certificates issued before URLs were shortened, the one with the whole id. Validators that
     * honour the IDP (OpenSSL) accept a CRL only for certificates whose CDP names one of them.
     */
    static List<java.net.URI> distributionPoint(Issuer issuer) {
        java.net.URI whole = issuer.crlUrl().resolve(issuer.id() + ".crl");
        return whole.equals(issuer.crlUrl()) ? List.of(issuer.crlUrl()) : List.of(issuer.crlUrl(), whole);
    }

    /** Runs every {@code trent.crl.batch-delay}; does real work only when a CRL is due. */
    @Scheduled(initialDelay = 0, fixedDelayString = "${trent.crl.batch-delay:2s}")
    void tick() {
        for (Issuer issuer : issuers.all()) {
            try {
                boolean changedHere = dirty.remove(issuer.id());
                if (changedHere || due(issuer.id())) {
                    generate(issuer);
                }
            } catch (RuntimeException e) {
                if (DatabaseUnavailable.causedBy(e)) {
                    outage.logged(e, "CRL generation");
                } else {
                    log.error("CRL generation for issuer {} failed; will retry", issuer.id(), e);
                }
                dirty.add(issuer.id());
            }
        }
        publishFiles();
    }

    /**
     * Writes the CRL files ({@code trent.crl.publish-dir}) when any issuer's current CRL is not
     * the one last written: at start, after this instance generated one, and when another
     * instance did.
     */
    private void publishFiles() {
        if (!files.enabled()) {
            return;
        }
        try {
            List<Issuer> all = issuers.all();
            Map<String, Long> numbers = new HashMap<>();
            for (Issuer issuer : all) {
                latestHead(issuer.id()).ifPresent(h -> numbers.put(issuer.id(), h.number()));
            }
            if (numbers.equals(filed)) {
                return;
            }
            List<PublishedCrl> crls = all.stream().map(this::current).flatMap(Optional::stream).toList();
            if (files.publish(crls)) {
                filed = crls.stream().collect(Collectors.toUnmodifiableMap(PublishedCrl::issuerId,
                        PublishedCrl::number));
            }
        } catch (RuntimeException e) {
            if (DatabaseUnavailable.causedBy(e)) {
                outage.logged(e, "CRL files");
            } else {
                log.error("Cannot publish the CRL files; will retry", e);
            }
        }
    }

    /**
     * What is known of an issuer's current CRL without its DER.
     *
     * @param sizeBytes length of the DER
     */
    public record Head(long number, Instant thisUpdate, Instant nextUpdate, long revocationVersion, int entries,
            long sizeBytes) {
    }

    /**
     * The issuer's current CRL as stored in PostgreSQL (read now), or empty before its first CRL.
     * Every read also refreshes the issuer's {@code trent.crl.*} gauges.
     */
    public Optional<Head> latestHead(String issuerId) {
        Optional<Head> head = jdbc.query("select crl_number, this_update, next_update, revocation_version, entries, "
                + "octet_length(der) from crl where issuer_id = ? order by crl_number desc limit 1",
                (rs, n) -> new Head(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getTimestamp(3).toInstant(),
                        rs.getLong(4), rs.getInt(5), rs.getLong(6)), issuerId)
                .stream().findFirst();
        head.ifPresent(h -> metrics.observe(issuerId, h));
        return head;
    }

    /** Whether the issuer needs a new CRL: none yet, its state changed since, or half its life is gone. */
    boolean due(String issuerId) {
        Optional<Head> head = latestHead(issuerId);
        if (head.isEmpty()) {
            return true;
        }
        if (revocationVersion(issuerId) != head.get().revocationVersion()) {
            return true;
        }
        Optional<Instant> retiredUntil = issuers.retiredUntil(issuerId);
        if (retiredUntil.isPresent() && head.get().nextUpdate().isBefore(retiredUntil.get())) {
            return true; // a retired issuer's CRL must cover its last certificate (a rotation, or one issued since)
        }
        Duration life = Duration.between(head.get().thisUpdate(), head.get().nextUpdate());
        return !clock.instant().isBefore(head.get().thisUpdate().plus(life.dividedBy(2)));
    }

    private long revocationVersion(String issuerId) {
        return jdbc.queryForObject("select revocation_version from issuer where id = ?", Long.class, issuerId);
    }

    /**
     * Generates and stores a new CRL for the issuer unless another instance is generating one
     * right now (then that one's CRL will do).
     *
     * @return whether this call generated one
     */
    public boolean generate(Issuer issuer) {
        Boolean done = snapshot.execute(status -> {
            Boolean locked = jdbc.queryForObject("select pg_try_advisory_xact_lock(?, hashtext(?))", Boolean.class,
                    CRL_LOCK, issuer.id());
            if (!Boolean.TRUE.equals(locked)) {
                return false;
            }
            long version = revocationVersion(issuer.id());
            Instant thisUpdate = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            Instant nextUpdate = thisUpdate.plus(settings.validity());
            Optional<Instant> retiredUntil = issuers.retiredUntil(issuer.id());
            if (retiredUntil.isPresent() && retiredUntil.get().isAfter(nextUpdate)) {
                // A retired issuer's final CRL: valid until its last certificate expires.
                nextUpdate = retiredUntil.get().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
            }
            long number = jdbc.queryForObject("select nextval('crl_number_seq')", Long.class);
            long started = System.nanoTime();
            byte[] der;
            int entries;
            try (CrlEncoder encoder = new CrlEncoder()) {
                certificates.forEachRevoked(issuer.id(), thisUpdate, e -> {
                    try {
                        encoder.add(new CrlEncoder.Entry(new BigInteger(e.serialHex(), 16), e.revokedAt(),
                                reasonCode(e.reason()), e.invalidityDate()));
                    } catch (IOException x) {
                        throw new UncheckedIOException(x);
                    }
                });
                entries = (int) encoder.count();
                der = encoder.finish(issuer.certificate(), issuer.signer().contentSigner(), thisUpdate, nextUpdate,
                        BigInteger.valueOf(number), settings.issuingDistributionPoint() ? distributionPoint(issuer)
                                : List.of());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot encode the CRL", e);
            }
            metrics.generated(issuer.id(), System.nanoTime() - started);
            String sha256 = Hashes.sha256Hex(der);
            jdbc.update("insert into crl (issuer_id, crl_number, this_update, next_update, entries, sha256, der, "
                    + "revocation_version, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)", issuer.id(), number,
                    Timestamp.from(thisUpdate), Timestamp.from(nextUpdate), entries, sha256, der, version,
                    Timestamp.from(clock.instant()));
            jdbc.update("delete from crl where issuer_id = ? and crl_number < (select min(crl_number) from "
                    + "(select crl_number from crl where issuer_id = ? order by crl_number desc limit ?) k)",
                    issuer.id(), issuer.id(), settings.keep());
            cache.computeIfAbsent(issuer.id(), k -> new AtomicReference<>()).set(new PublishedCrl(issuer.id(), number,
                    thisUpdate, nextUpdate, entries, sha256, der));
            metrics.observe(issuer.id(), new Head(number, thisUpdate, nextUpdate, version, entries, der.length));
            log.info("Published CRL {} for issuer {}: {} entries, {} bytes, {} ms", number, issuer.id(), entries,
                    der.length, (System.nanoTime() - started) / 1_000_000);
            return true;
        });
        return Boolean.TRUE.equals(done);
    }

    /**
     * The issuer's current CRL, as stored in PostgreSQL (so every instance serves the same
     * bytes). The DER is kept in memory until a newer CRL appears. While PostgreSQL cannot be
     * reached, or its statement timed out, the copy in memory is served until its nextUpdate (it
     * is still the issuer's valid statement, RFC 5280 5.1.2.5); after that, or without one, the
     * database's failure stands (503).
     */
    public Optional<PublishedCrl> current(Issuer issuer) {
        try {
            return currentFromDatabase(issuer);
        } catch (RuntimeException e) {
            if (!DatabaseUnavailable.causedBy(e) && !DatabaseUnavailable.timedOut(e)) {
                throw e;
            }
            AtomicReference<PublishedCrl> ref = cache.get(issuer.id());
            PublishedCrl held = ref == null ? null : ref.get();
            if (held == null || !clock.instant().isBefore(held.nextUpdate())) {
                throw e;
            }
            outage.logged(e, "CRL " + issuer.id() + " served from memory");
            return Optional.of(held);
        }
    }

    private Optional<PublishedCrl> currentFromDatabase(Issuer issuer) {
        Optional<Head> head = latestHead(issuer.id());
        if (head.isEmpty()) {
            generate(issuer);
            head = latestHead(issuer.id());
            if (head.isEmpty()) {
                return Optional.empty();
            }
        }
        AtomicReference<PublishedCrl> ref = cache.computeIfAbsent(issuer.id(), k -> new AtomicReference<>());
        PublishedCrl cached = ref.get();
        if (cached != null && cached.number() == head.get().number()) {
            return Optional.of(cached);
        }
        List<PublishedCrl> loaded = jdbc.query("select crl_number, this_update, next_update, entries, sha256, der "
                + "from crl where issuer_id = ? and crl_number = ?", (rs, n) -> new PublishedCrl(issuer.id(),
                        rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getTimestamp(3).toInstant(), rs.getInt(4),
                        rs.getString(5), rs.getBytes(6)), issuer.id(), head.get().number());
        if (loaded.isEmpty()) {
            return Optional.ofNullable(cached);
        }
        ref.set(loaded.get(0));
        return Optional.of(loaded.get(0));
    }

    /** RFC 5280 5.3.1: for unspecified, "the reason code CRL entry extension SHOULD be absent". */
    static Integer reasonCode(String reason) {
        RevocationReason r = RevocationReason.parse(reason);
        return r == RevocationReason.unspecified ? null : r.code();
    }
}
