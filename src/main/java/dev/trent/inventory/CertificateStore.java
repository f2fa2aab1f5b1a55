package dev.trent.inventory;

import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Supplier;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.trent.config.TrentProperties;
import dev.trent.config.WriteBehind;

/**
 * The one owner of certificate state: every statement that reads or changes a certificate's
 * status, a blocked key or an IDevID enrollment is here, with the status typed
 * ({@link CertificateStatus}); other packages ask this port. Plain JDBC on purpose: enrollment
 * and OCSP are hot paths (bench/README.md); each method is the one statement its caller made
 * before, so no path gained a round trip, and issuance's two writes take fewer (below). The
 * operator search stays on the JPA repository ({@link CertificateRepository}, this package's own).
 *
 * <p><b>Reservations commit on their own.</b> {@link #reserve} inserts the PENDING row on a
 * connection of a small pool of its own in autocommit mode, so the row is durable (PostgreSQL's
 * synchronous commit) before anything is signed, while the request's transaction, which holds
 * the token's lock, is still open. Concurrent reservations are inserted and committed together
 * ({@link ReservationBatches}). The signed DER is stored with the request's other writes
 * ({@code WriteBehind}: one round trip for the DER, the audit event and the webhook deliveries). A separate pool, not a second connection from the main one:
 * requests that each hold a main connection and wait for a second could exhaust the main pool
 * and wait on each other. The reservation takes no lock that the request's transaction holds (it
 * names no token; the token is linked when the DER is stored). Its {@code reserved_at} is the
 * database's clock (V17), so the sweep compares like with like whatever the instances' clocks.
 * The sweeper finds reservations left PENDING by walking the primary key from a mark
 * ({@code certificate_sweep}, V24), so a reservation writes one row and storing it changes one:
 * no index of the certificate table reads the columns that storing the DER changes, so that
 * update is HOT (V23, bench/README.md).
 *
 * <p>The writes are package-private: issuance reaches reserve, store and abandon through
 * {@link CertificateReservations}, revocation its writes through {@link CertificateRevocations}
 * ({@code StorePortsTest} checks that no other package uses those ports).
 */
@Component
public class CertificateStore implements AutoCloseable, dev.trent.ca.LiveCertificates {

    private static final Logger log = LoggerFactory.getLogger(CertificateStore.class);

    private static final String PENDING = CertificateStatus.PENDING.sql();
    private static final String ISSUED = CertificateStatus.ISSUED.sql();
    private static final String REVOKED = CertificateStatus.REVOKED.sql();
    private static final String ABANDONED = CertificateStatus.ABANDONED.sql();
    /** Delivered: listed, served, revocable ({@link CertificateStatus#delivered()}). */
    private static final String DELIVERED = "(" + ISSUED + ", " + REVOKED + ")";

    /** Stores the DER: a HOT update (V23: no index reads status or der). */
    private static final String STORE_SIGNED = """
            update certificate set der = ?, status = %s
            where id = ? and status = %s and tbs_sha256 = ? returning id""".formatted(ISSUED, PENDING);

    /**
     * Stores the DER, links the token and marks it used, in one statement: all or nothing. The
     * token's {@code used_at is null} is what keeps one certificate per token (V23).
     */
    private static final String STORE_SIGNED_AND_USE_TOKEN = """
            with c as (update certificate set der = ?, status = %s
                       where id = ? and status = %s and tbs_sha256 = ? returning id)
            update enrollment_token set used_at = ?, certificate_id = (select id from c)
            where id = ? and used_at is null and exists (select 1 from c)
            returning certificate_id""".formatted(ISSUED, PENDING);

    /** The columns of {@link Revocable}, in its order. */
    private static final String REVOCABLE_COLUMNS =
            "c.id, c.serial, c.issuer_id, c.status, c.revocation_reason, c.public_key_sha256, c.device_id, c.profile";

    /** Valid, or revoked with a reason that {@code keyCompromise} may still replace. */
    private static final String NOT_YET_COMPROMISED = "(c.status = " + ISSUED + " or (c.status = " + REVOKED
            + " and c.revocation_reason <> 'keyCompromise'))";

    private static final RowMapper<Revocable> REVOCABLE = (rs, n) -> new Revocable(rs.getLong(1), rs.getString(2),
            rs.getString(3), CertificateStatus.valueOf(rs.getString(4)), rs.getString(5), rs.getString(6),
            rs.getString(7), rs.getString(8));

    private final JdbcTemplate jdbc;
    private final WriteBehind writes;
    private final JdbcTemplate reservations;
    /** Reservations committed together with those of concurrent issuances. */
    private final ReservationBatches batches;
    /** The CRL's entries, read in batches (a large issuer's revoked list is never held whole). */
    private final JdbcTemplate streaming;
    private final HikariDataSource ownPool;

    CertificateStore(JdbcTemplate jdbc, WriteBehind writes, DataSource dataSource, TrentProperties properties) {
        this.jdbc = jdbc;
        this.writes = writes;
        this.streaming = new JdbcTemplate(dataSource);
        this.streaming.setFetchSize(10_000);
        if (dataSource instanceof HikariDataSource main) {
            // Everything the main pool is configured with (URL, credentials, driver properties,
            // trent.database.* timeouts, init SQL, lifetimes), then what differs.
            HikariConfig config = new HikariConfig();
            main.copyStateTo(config);
            config.setPoolName("trent-reservations");
            config.setAutoCommit(true);
            config.setMaximumPoolSize(properties.issuance().reservationPoolSize());
            config.setMinimumIdle(1);
            this.ownPool = new HikariDataSource(config);
            this.reservations = new JdbcTemplate(ownPool);
        } else {
            // Not a Hikari pool (a test's DataSource): a connection of its own per statement,
            // outside any Spring transaction since the DataSource object differs.
            this.ownPool = null;
            this.reservations = new JdbcTemplate(new org.springframework.jdbc.datasource.DelegatingDataSource(dataSource));
            log.warn("The DataSource is not a Hikari pool; reservations share its connections");
        }
        this.batches = new ReservationBatches(reservations.getDataSource(), PENDING);
    }

    /**
     * Whether the reservation pool hands out a working connection now (within the configured
     * connect timeout). Its own pool recovers from an outage on its own schedule: Hikari retries a
     * failed connect with a backoff of up to 5 s, so the main pool can be back while the first
     * reservation would still time out; readiness waits for both ({@link ReservationPoolHealth}).
     */
    boolean reservationPoolReachable() {
        if (ownPool == null) {
            return true; // reservations share the application's DataSource, which "db" checks
        }
        var pool = ownPool.getHikariPoolMXBean();
        if (pool != null && pool.getTotalConnections() == 0) {
            return false; // it keeps one: none means it is reconnecting (answered at once, not after a timeout)
        }
        try (java.sql.Connection c = ownPool.getConnection()) {
            return c.isValid(Math.max(1, (int) (ownPool.getValidationTimeout() / 1000)));
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    @Override
    public void close() {
        if (ownPool != null) {
            ownPool.close();
        }
    }

    // ---------------------------------------------------------------- issuance

    /** The record's facts, fixed before signing. */
    public record Pending(String issuerId, String serial, String deviceId, String profile, String subjectDn,
            List<String> dnsNames, Instant notBefore, Instant notAfter, String keyType, String publicKeySha256,
            String tbsSha256, Instant createdAt) {
    }

    /**
     * Commits the record as PENDING (the unique constraints reserve its serial), durably, before
     * anything is signed; outside the caller's transaction.
     *
     * @return the record's id
     * @throws KeyBlockedException when the key was reported compromised (nothing written)
     */
    long reserve(Pending p) {
        return batches.reserve(p);
    }

    /**
     * In the caller's transaction: stores the signed DER of a PENDING record whose reserved TBS
     * hash is {@code tbsSha256} (the signed certificate's TBSCertificate, checked in the same
     * statement), which makes it ISSUED, and when it was authorised by an enrollment token, links
     * that token and marks it used by it. The statement goes with the transaction's other writes
     * ({@link WriteBehind}): nothing in the transaction reads the DER it stores, and the outcome
     * is checked when they are sent, at the latest just before the commit, whose failure it then is.
     *
     * <p>The check throws {@code keyBlocked}'s exception when a keyCompromise of this key abandoned
     * the reservation meanwhile, and an {@link IllegalStateException} when the record is no longer
     * PENDING (the sweeper abandoned it) or the token was already used (its row lock should have
     * made that impossible): either way the caller's transaction rolls back.
     */
    void storeSigned(long id, byte[] der, String tbsSha256, Long tokenId, Instant at,
            Supplier<? extends RuntimeException> keyBlocked) {
        Object[] args = tokenId == null ? new Object[] {der, id, tbsSha256}
                : new Object[] {der, id, tbsSha256, Timestamp.from(at), tokenId};
        writes.add(tokenId == null ? STORE_SIGNED : STORE_SIGNED_AND_USE_TOKEN, args, (rows, count) -> {
            if (rows.size() == 1) {
                return;
            }
            // A keyCompromise of this key abandoned the reservation meanwhile (abandonPendingOfKey).
            if (Boolean.TRUE.equals(jdbc.queryForObject("select exists (select 1 from certificate c join blocked_key b "
                    + "on b.public_key_sha256 = c.public_key_sha256 where c.id = ?)", Boolean.class, id))) {
                throw keyBlocked.get();
            }
            throw new IllegalStateException("certificate record " + id + " is no longer pending (abandoned by the "
                    + "sweeper after trent.issuance.pending-timeout?), or its reserved TBS hash is not that of the "
                    + "signed certificate" + (tokenId == null ? "" : ", or enrollment token " + tokenId
                    + " was already used"));
        });
    }

    /** A reservation whose issuance will not complete: ABANDONED (outside any transaction). */
    boolean abandon(long id) {
        return reservations.update("update certificate set status = " + ABANDONED + " where id = ? and status = "
                + PENDING, id) == 1;
    }

    /** A reservation the sweeper abandoned. */
    public record Abandoned(String serial, String issuerId, String deviceId, String profile) {
    }

    /**
     * Reservations still PENDING that were reserved longer than {@code age} ago by the
     * database's clock (never an instance's: a skewed instance cannot abandon a live reservation
     * early): ABANDONED, and returned. In the caller's transaction (with its audit events).
     *
     * <p>It reads the rows from {@code certificate_sweep}'s mark on, by the primary key (V24; at
     * most {@link #SWEEP_ROWS} per sweep, so a first sweep far behind catches up over several),
     * and moves the mark past the longest run of rows, in id order, that are settled (not
     * PENDING, or abandoned now) and were reserved more than twice {@code age} ago; the first row
     * that is not stops it, and so does the end of the visible rows. A reservation still
     * uncommitted when the sweep reads (invisible to it) drew its id before the rows after it
     * were reserved, so it stays above the mark unless it has been in flight for more than twice
     * {@code age}: a reservation is one autocommitted statement, bounded by PostgreSQL's
     * {@code statement_timeout}, which must be shorter than {@code age} (checked when the settings
     * are bound, TrentProperties). Concurrent sweeps (any instance) queue on the mark's row, which only moves up.
     */
    List<Abandoned> abandonPendingOlderThan(Duration age) {
        long below = jdbc.queryForObject("select below from certificate_sweep for update", Long.class);
        double seconds = age.toMillis() / 1000.0;
        return jdbc.query("""
                with r as (select id, status, reserved_at < now() - make_interval(secs => ?) as timed_out,
                                  reserved_at < now() - make_interval(secs => ?) as settled_age
                           from certificate where id >= ? and id < ?),
                     a as (update certificate c set status = %1$s
                           where c.id in (select id from r where status = %2$s and timed_out) and c.status = %2$s
                           returning c.id, c.serial, c.issuer_id, c.device_id, c.profile),
                     stop as (select min(id) as id from r
                              where not settled_age or (status = %2$s and id not in (select id from a))),
                     u as (update certificate_sweep set below = greatest(below, coalesce(
                               (select max(r.id) + 1 from r where (select id from stop) is null or r.id < (select id from stop)),
                               below)))
                select serial, issuer_id, device_id, profile from a""".formatted(ABANDONED, PENDING),
                (rs, n) -> new Abandoned(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)),
                seconds, 2 * seconds, below, below + SWEEP_ROWS);
    }

    /** The most certificate rows one sweep reads (a few minutes of issuances at 1,000/s fit many times). */
    static final long SWEEP_ROWS = 2_000_000;

    /** The public key was reported compromised; nothing was written. */
    public static final class KeyBlockedException extends RuntimeException {
        public KeyBlockedException() {
            super("public key is blocked");
        }
    }

    // ---------------------------------------------------------------- reading

    private static final String CERTIFICATE_COLUMNS = "select serial, issuer_id, device_id, profile, subject_dn, "
            + "dns_names, status, key_type, public_key_sha256, not_before, not_after, created_at, revoked_at, "
            + "revocation_reason, invalidity_date, der from certificate ";

    /**
     * A row as {@link CertificateRecord#toCertificate} maps it, read with JDBC: these reads run
     * inside enrollment and revocation transactions, which are JDBC transactions (no entity).
     */
    private static Certificate certificate(java.sql.ResultSet rs) throws java.sql.SQLException {
        Timestamp revokedAt = rs.getTimestamp(13);
        Timestamp invalidity = rs.getTimestamp(15);
        return new Certificate(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                List.of((String[]) rs.getArray(6).getArray()), CertificateStatus.valueOf(rs.getString(7)),
                rs.getString(8), rs.getString(9), rs.getTimestamp(10).toInstant(), rs.getTimestamp(11).toInstant(),
                rs.getTimestamp(12).toInstant(), revokedAt == null ? null : new Certificate.Revocation(
                        revokedAt.toInstant(), rs.getString(14), invalidity == null ? null : invalidity.toInstant()),
                rs.getBytes(16));
    }

    /** The certificate with this record id. */
    public Optional<Certificate> byId(long id) {
        return jdbc.query(CERTIFICATE_COLUMNS + "where id = ?", (rs, n) -> certificate(rs), id).stream().findFirst();
    }

    /** The certificate with this (canonical) serial, whatever its status. */
    public Optional<Certificate> bySerial(String serial) {
        return jdbc.query(CERTIFICATE_COLUMNS + "where serial = ?", (rs, n) -> certificate(rs), serial).stream()
                .findFirst();
    }

    /**
     * Locks the certificate row with this serial until the transaction ends (renewal against a
     * concurrent revocation, hold or renewal). False when there is none.
     */
    public boolean lock(String serial) {
        return !jdbc.queryForList("select id from certificate where serial = ? for update", Long.class, serial).isEmpty();
    }

    /** What OCSP needs of a row: status and, when revoked, when and why. */
    public record Status(CertificateStatus status, Instant revokedAt, String revocationReason) {
    }

    /** The status of the serial (lowercase hex) under this issuer; empty when it never reserved it. */
    public Optional<Status> status(String issuerId, String serialHex) {
        List<Status> rows = jdbc.query("select status, revoked_at, revocation_reason "
                + "from certificate where issuer_id = ? and serial = ?", (rs, n) -> {
                    Timestamp revoked = rs.getTimestamp(2);
                    return new Status(CertificateStatus.valueOf(rs.getString(1)),
                            revoked == null ? null : revoked.toInstant(), rs.getString(3));
                }, issuerId, serialHex);
        return rows.stream().findFirst();
    }

    /** One entry of a CRL. */
    public record RevokedEntry(String serialHex, Instant revokedAt, String reason, Instant invalidityDate) {
    }

    /**
     * Every certificate of the issuer revoked (or on hold) and not expired at {@code at}, in
     * record order, read in batches.
     */
    public void forEachRevoked(String issuerId, Instant at, Consumer<RevokedEntry> entries) {
        streaming.query("select serial, revoked_at, revocation_reason, invalidity_date from certificate "
                + "where issuer_id = ? and revoked_at is not null and not_after > ? order by id", rs -> {
                    Timestamp invalidity = rs.getTimestamp(4);
                    entries.accept(new RevokedEntry(rs.getString(1), rs.getTimestamp(2).toInstant(), rs.getString(3),
                            invalidity == null ? null : invalidity.toInstant()));
                }, issuerId, Timestamp.from(at));
    }

    @Override
    public Live live(String issuerId, Instant at, Collection<String> excludedProfiles) {
        // "<> all" of an empty array is true: no profile excluded (where "not in ()" is a syntax error).
        return jdbc.queryForObject("select count(*) as n, max(not_after) as last from certificate "
                + "where issuer_id = ? and status in " + DELIVERED + " and not_after > ? and profile <> all(?)",
                (rs, n) -> new Live(rs.getLong(1), rs.getTimestamp(2) == null ? null : rs.getTimestamp(2).toInstant()),
                issuerId, Timestamp.from(at), array(excludedProfiles));
    }

    @Override
    public boolean hasLive(String issuerId, Instant at) {
        return Boolean.TRUE.equals(jdbc.queryForObject("select exists (select 1 from certificate where issuer_id = ? "
                + "and not_after > ? and status in " + DELIVERED + ")", Boolean.class, issuerId, Timestamp.from(at)));
    }

    /**
     * Those of {@code deviceIds} with a valid (ISSUED, within its validity at {@code at}) certificate
     * of {@code profiles}. Here and below the lists are bound as SQL arrays ({@code = any(?)}): one
     * statement shape whatever their sizes, and no limit from the protocol's 65,535 bind parameters.
     */
    public Set<String> devicesWithValidCertificate(Collection<String> deviceIds, Collection<String> profiles,
            Instant at) {
        return new HashSet<>(jdbc.queryForList("select distinct device_id from certificate where device_id = any(?) "
                + "and profile = any(?) and status = " + ISSUED + " and not_before <= ? and not_after > ?", String.class,
                array(deviceIds), array(profiles), Timestamp.from(at), Timestamp.from(at)));
    }

    /** Every device with a valid certificate of {@code profiles} at {@code at}. */
    public Set<String> devicesWithValidCertificate(Collection<String> profiles, Instant at) {
        return new HashSet<>(jdbc.queryForList("select distinct device_id from certificate where profile = any(?) "
                + "and status = " + ISSUED + " and not_before <= ? and not_after > ?", String.class, array(profiles),
                Timestamp.from(at), Timestamp.from(at)));
    }

    /** Devices with a certificate of {@code profiles} whose notAfter fell in {@code (from, to]} (an index range). */
    public Set<String> devicesExpiredBetween(Collection<String> profiles, Instant from, Instant to) {
        return new HashSet<>(jdbc.queryForList("select distinct device_id from certificate where profile = any(?) "
                + "and not_after > ? and not_after <= ?", String.class, array(profiles), Timestamp.from(from),
                Timestamp.from(to)));
    }

    /** A certificate's facts as an event announces them. */
    public record Facts(String serial, String issuerId, String deviceId, String profile, Instant notBefore,
            Instant notAfter, CertificateStatus status, Instant revokedAt) {

        /** A certificate just issued, as its row will read once stored. */
        static Facts issued(Certificate c) {
            return new Facts(c.serial(), c.issuerId(), c.deviceId(), c.profile(), c.notBefore(), c.notAfter(),
                    CertificateStatus.ISSUED, null);
        }
    }

    /** The facts of the certificate with this serial, for an event about it. */
    public Optional<Facts> facts(String serial) {
        return jdbc.query("select serial, issuer_id, device_id, profile, not_before, not_after, status, "
                + "revoked_at from certificate where serial = ?", (rs, n) -> new Facts(rs.getString(1),
                        rs.getString(2), rs.getString(3), rs.getString(4), rs.getTimestamp(5).toInstant(),
                        rs.getTimestamp(6).toInstant(), CertificateStatus.valueOf(rs.getString(7)),
                        rs.getTimestamp(8) == null ? null : rs.getTimestamp(8).toInstant()), serial)
                .stream().findFirst();
    }

    /**
     * Claims up to {@code limit} valid certificates (not of {@code excludedProfiles}) whose
     * notAfter lies in {@code (from, to]} and that were never announced as expiring, in
     * {@code webhook_expiring_announced} (in the caller's transaction, so two instances never
     * announce one twice), and returns their facts. One statement.
     */
    public List<Facts> claimExpiring(Instant from, Instant to, Collection<String> excludedProfiles, int limit,
            Instant at) {
        return jdbc.query("""
                with due as (
                    select c.id from certificate c
                    where c.status = %s and c.not_after > ? and c.not_after <= ?
                      and c.profile <> all (?)
                      and not exists (select 1 from webhook_expiring_announced a where a.certificate_id = c.id)
                    order by c.not_after limit ?),
                claimed as (
                    insert into webhook_expiring_announced (certificate_id, announced_at)
                    select id, ? from due on conflict do nothing returning certificate_id)
                select c.serial, c.issuer_id, c.device_id, c.profile, c.not_before, c.not_after, c.status
                from certificate c join claimed on c.id = claimed.certificate_id
                """.formatted(ISSUED), (rs, n) -> new Facts(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getString(4), rs.getTimestamp(5).toInstant(), rs.getTimestamp(6).toInstant(),
                        CertificateStatus.valueOf(rs.getString(7)), null),
                Timestamp.from(from), Timestamp.from(to), excludedProfiles.toArray(String[]::new), limit,
                Timestamp.from(at));
    }

    // ---------------------------------------------------------------- revocation

    /** A delivered certificate's row as revocation sees it (locked while the transaction lasts). */
    public record Revocable(long id, String serial, String issuerId, CertificateStatus status, String reason,
            String keyHash, String deviceId, String profile) {
    }

    /** The delivered certificate with this serial, locked until the transaction ends. */
    public Optional<Revocable> lockDelivered(String serial) {
        return jdbc.query("select " + REVOCABLE_COLUMNS + " from certificate c where c.serial = ? and c.status in "
                + DELIVERED + " for update", REVOCABLE, serial).stream().findFirst();
    }

    /**
     * A bulk revocation's selection (exactly one criterion set): valid certificates, and held
     * ones unless {@code reason} is a hold; locked unless {@code lock} is false (a dry run).
     */
    public List<Revocable> selectForBulk(String deviceId, String profile, UUID batchId, String reason, boolean lock) {
        StringBuilder where = new StringBuilder(" (c.status = " + ISSUED + " or (c.status = " + REVOKED + " and "
                + "c.revocation_reason = 'certificateHold' and ? <> 'certificateHold'))");
        List<Object> args = new ArrayList<>();
        args.add(reason);
        if (deviceId != null) {
            where.append(" and c.device_id = ?");
            args.add(deviceId);
        }
        if (profile != null) {
            where.append(" and c.profile = ?");
            args.add(profile);
        }
        if (batchId != null) {
            where.append(" and c.id in (select certificate_id from enrollment_token where batch_id = ? "
                    + "and certificate_id is not null)");
            args.add(batchId);
        }
        return jdbc.query("select " + REVOCABLE_COLUMNS + " from certificate c where" + where + " order by c.id"
                + (lock ? " for update" : ""), REVOCABLE, args.toArray());
    }

    /** Other certificates of the same key that a keyCompromise still changes, locked. */
    public List<Revocable> lockOthersOfKey(String keyHash, long exceptId) {
        return jdbc.query("select " + REVOCABLE_COLUMNS + " from certificate c where c.public_key_sha256 = ? and "
                + "c.id <> ? and " + NOT_YET_COMPROMISED + " order by c.id for update", REVOCABLE, keyHash, exceptId);
    }

    /**
     * How many other certificates of the same key a keyCompromise of {@code serial} would change
     * ({@link #lockOthersOfKey}'s selection, counted without locking: the console's confirmation).
     */
    public long countOthersOfKey(String keyHash, String serial) {
        return jdbc.queryForObject("select count(*) from certificate c where c.public_key_sha256 = ? and c.serial <> ? "
                + "and " + NOT_YET_COMPROMISED, Long.class, keyHash, serial);
    }

    /** Certificates renewed from this one that a keyCompromise still changes, locked. */
    public List<Revocable> lockRenewalsOf(long id) {
        return jdbc.query("select " + REVOCABLE_COLUMNS + " from certificate c where c.renewed_from = ? and "
                + NOT_YET_COMPROMISED + " order by c.id for update", REVOCABLE, id);
    }

    /** ISSUED becomes REVOKED. */
    void revoke(long id, Instant at, String reason, Instant invalidityDate) {
        jdbc.update("update certificate set status = " + REVOKED + ", revoked_at = ?, revocation_reason = ?, "
                + "invalidity_date = ? where id = ?", Timestamp.from(at), reason, ts(invalidityDate), id);
    }

    /** A revoked certificate's reason replaced; the revocation time stays. */
    void changeReason(long id, String reason, Instant invalidityDate) {
        jdbc.update("update certificate set revocation_reason = ?, invalidity_date = coalesce(?, invalidity_date) "
                + "where id = ?", reason, ts(invalidityDate), id);
    }

    /** A hold released: ISSUED again. */
    void release(long id) {
        jdbc.update("update certificate set status = " + ISSUED + ", revoked_at = null, revocation_reason = null, "
                + "invalidity_date = null where id = ?", id);
    }

    /** Blocks a key; false when it was blocked already. */
    boolean blockKey(String keyHash, Instant at, String serial, String actor) {
        return jdbc.update("insert into blocked_key (public_key_sha256, blocked_at, serial, blocked_by) "
                + "values (?, ?, ?, ?) on conflict do nothing", keyHash, Timestamp.from(at), serial, actor) == 1;
    }

    /**
     * Issuances of this key in progress (reserved, not yet stored) abandoned, so that their
     * store finds them no longer pending; how many.
     */
    int abandonPendingOfKey(String keyHash) {
        return jdbc.update("update certificate set status = " + ABANDONED + " where public_key_sha256 = ? and status = "
                + PENDING, keyHash);
    }

    // ---------------------------------------------------------------- renewal and IDevID

    /** Records that {@code serial} was renewed from {@code previousSerial}. */
    public void linkRenewal(String previousIssuerId, String previousSerial, String issuerId, String serial) {
        jdbc.update("update certificate set renewed_from = (select id from certificate where issuer_id = ? and serial = ?) "
                + "where issuer_id = ? and serial = ?", previousIssuerId, previousSerial, issuerId, serial);
    }

    /** An earlier IDevID enrollment: of which factory certificate, and its certificate's record id. */
    public record IdevidEnrollment(String idevidSha256, long certificateId) {
    }

    /**
     * The earlier IDevID enrollment of this factory certificate, else one of this device id.
     */
    public Optional<IdevidEnrollment> earlierIdevidEnrollment(String idevidSha256, String deviceId) {
        return jdbc.query("select e.idevid_sha256, e.certificate_id from "
                + "idevid_enrollment e where e.idevid_sha256 = ? or e.device_id = ? "
                + "order by (e.idevid_sha256 = ?) desc", (rs, n) -> new IdevidEnrollment(rs.getString(1), rs.getLong(2)),
                idevidSha256, deviceId, idevidSha256).stream().findFirst();
    }

    /**
     * Whether a device id is in use otherwise: a delivered certificate for it (a PENDING row is
     * an interrupted attempt) or an enrollment token.
     */
    public boolean deviceIdTaken(String deviceId) {
        Integer taken = jdbc.queryForObject("select (select count(*) from certificate where device_id = ? "
                + "and status in " + DELIVERED + ") "
                + "+ (select count(*) from enrollment_token where device_id = ?)", Integer.class, deviceId, deviceId);
        return taken != null && taken > 0;
    }

    /** Records an IDevID enrollment and the certificate it gave. */
    public void recordIdevidEnrollment(String idevidSha256, long manufacturerCaId, String idevidSubject,
            String idevidSerial, String deviceId, String issuerId, String serial, Instant at) {
        jdbc.update("insert into idevid_enrollment (idevid_sha256, manufacturer_ca_id, idevid_subject, idevid_serial, "
                + "device_id, certificate_id, enrolled_at) values (?, ?, ?, ?, ?, (select id from certificate where "
                + "issuer_id = ? and serial = ?), ?)", idevidSha256, manufacturerCaId, idevidSubject, idevidSerial,
                deviceId, issuerId, serial, Timestamp.from(at));
    }

    /** A bind value for {@code = any(?)} and {@code <> all(?)}: the JDBC driver sends a {@code String[]} as text[]. */
    private static String[] array(Collection<String> values) {
        return values.toArray(String[]::new);
    }

    private static Timestamp ts(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }
}
