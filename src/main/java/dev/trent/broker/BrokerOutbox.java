package dev.trent.broker;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;

import org.springframework.jdbc.core.JdbcTemplate;

import dev.trent.inventory.CertificateStore;

/**
 * The table {@code broker_sync}: one row per device whose broker state must be brought in line
 * with the inventory, and the inventory queries that decide that state. Every statement on the
 * table is here; the certificate side is asked of {@link CertificateStore}.
 */
final class BrokerOutbox {

    /** A device claimed by this instance, at the version it had when claimed. */
    record Claim(String deviceId, long version, int attempts) {
    }

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final List<String> profiles;
    private final CertificateStore certificates;

    BrokerOutbox(JdbcTemplate jdbc, Clock clock, List<String> profiles, CertificateStore certificates) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.profiles = List.copyOf(profiles);
        this.certificates = certificates;
    }

    Instant now() {
        return clock.instant();
    }

    private static Timestamp ts(Instant i) {
        return Timestamp.from(i);
    }

    /**
     * In the transaction of a certificate change: the certificate's device needs a sync, now
     * (a pending backoff is cut short and the version bumped, so a relay working on the device
     * keeps the row). An urgent row (a revocation or hold) is claimed before all others, so a
     * backlog of new devices (an enrollment storm) never delays a revocation. Certificates of
     * other profiles are ignored. Called just before the change commits, with every device it
     * touched in id order (see {@code BrokerRelay.onCertificateChange}).
     */
    void enqueueDevices(java.util.SortedMap<String, Boolean> urgentByDevice) {
        Timestamp now = ts(clock.instant());
        for (java.util.Map.Entry<String, Boolean> e : urgentByDevice.entrySet()) {
            jdbc.update("insert into broker_sync (device_id, version, due_at, urgent, attempts) values (?, 1, ?, ?, 0) "
                    + "on conflict (device_id) do update set version = broker_sync.version + 1, due_at = excluded.due_at, "
                    + "urgent = broker_sync.urgent or excluded.urgent, attempts = 0, last_error = null",
                    e.getKey(), now, e.getValue());
        }
    }

    /** Devices the reconciliation found out of step: due now, unless already queued (a backoff stays). */
    void enqueueIfAbsent(Collection<String> deviceIds) {
        Timestamp now = ts(clock.instant());
        List<Object[]> rows = deviceIds.stream().map(d -> new Object[] {d, now}).toList();
        jdbc.batchUpdate("insert into broker_sync (device_id, version, due_at, attempts) values (?, 1, ?, 0) "
                + "on conflict (device_id) do nothing", rows);
    }

    /**
     * Claims up to {@code limit} due rows that no other instance holds ({@code FOR UPDATE SKIP
     * LOCKED}, then a lease), urgent ones first: two instances never work on the same device at once.
     */
    List<Claim> claim(String instance, int limit, Duration lease) {
        Instant now = clock.instant();
        return jdbc.query("update broker_sync set claimed_by = ?, claimed_until = ? where device_id in ("
                + "select device_id from broker_sync where due_at <= ? and (claimed_until is null or claimed_until < ?) "
                + "order by urgent desc, due_at limit ? for update skip locked) returning device_id, version, attempts",
                (rs, i) -> new Claim(rs.getString(1), rs.getLong(2), rs.getInt(3)),
                instance, ts(now.plus(lease)), ts(now), ts(now), limit);
    }

    /** The broker matches these devices as read after the claim: their rows go, unless a change came in since (then only the claim goes). */
    void doneAll(String instance, List<Claim> claims) {
        if (claims.isEmpty()) {
            return;
        }
        int[] deleted = jdbc.batchUpdate("delete from broker_sync where device_id = ? and version = ? and claimed_by = ?",
                claims.stream().map(c -> new Object[] {c.deviceId(), c.version(), instance}).toList());
        for (int i = 0; i < deleted.length; i++) {
            if (deleted[i] == 0) {
                release(instance, claims.get(i).deviceId());
            }
        }
    }

    /** The sync failed: the row stays and is retried after {@code backoff} (at once if it changed meanwhile). */
    void failed(String instance, Claim claim, Duration backoff, String error) {
        int updated = jdbc.update("update broker_sync set claimed_by = null, claimed_until = null, attempts = attempts + 1, "
                + "due_at = ?, last_error = ? where device_id = ? and version = ? and claimed_by = ?",
                ts(clock.instant().plus(backoff)), error, claim.deviceId(), claim.version(), instance);
        if (updated == 0) {
            release(instance, claim.deviceId());
        }
    }

    private void release(String instance, String deviceId) {
        jdbc.update("update broker_sync set claimed_by = null, claimed_until = null where device_id = ? and claimed_by = ?",
                deviceId, instance);
    }

    /** Those of {@code deviceIds} that should have broker access now. */
    Set<String> withValidCertificate(Collection<String> deviceIds) {
        if (deviceIds.isEmpty()) {
            return Set.of();
        }
        return certificates.devicesWithValidCertificate(deviceIds, profiles, clock.instant());
    }

    /**
     * Devices with a certificate of a synced profile whose notAfter fell in {@code (from, to]}:
     * an expiry has no event, so the relay asks for these every few seconds (an index range on
     * {@code not_after}) and queues them; the relay then decides from the inventory.
     */
    Set<String> devicesExpiredBetween(Instant from, Instant to) {
        return certificates.devicesExpiredBetween(profiles, from, to);
    }

    /** Every device that should have broker access now. */
    Set<String> devicesWithValidCertificate() {
        return certificates.devicesWithValidCertificate(profiles, clock.instant());
    }

    /** Rows waiting, and the due time of the oldest, for health. */
    record Backlog(long rows, Instant oldestDue) {
    }

    Backlog backlog() {
        return jdbc.queryForObject("select count(*), min(due_at) from broker_sync", (rs, i) -> new Backlog(rs.getLong(1),
                rs.getTimestamp(2) == null ? null : rs.getTimestamp(2).toInstant()));
    }

    /** Tries to take the reconciliation lock for the current transaction. */
    boolean tryReconcileLock() {
        return Boolean.TRUE.equals(jdbc.queryForObject("select pg_try_advisory_xact_lock(?)", Boolean.class, RECONCILE_LOCK));
    }

    /** pg_advisory lock key of the reconciliation ("trentmq" in ASCII): one instance at a time. */
    static final long RECONCILE_LOCK = 0x7472656e746d71L;
}
