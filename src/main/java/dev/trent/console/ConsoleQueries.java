package dev.trent.console;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * What the console reads and the API has no query for: counts for the overview, the keyset-paged
 * certificate search, token batches and their use. Read-only: every change goes through the
 * services the API uses. Reporting only: a rule of certificate state (what a revocation would
 * change) is asked of {@code CertificateStore}.
 */
@Component
class ConsoleQueries {

    private final JdbcTemplate jdbc;
    private final Clock clock;

    ConsoleQueries(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    record ProfileCount(String profile, long issued, long revoked) {
    }

    /** Valid and revoked certificates per profile. */
    List<ProfileCount> countsByProfile() {
        return jdbc.query("select profile, count(*) filter (where status = 'ISSUED'), "
                + "count(*) filter (where status = 'REVOKED') from certificate where status in ('ISSUED', 'REVOKED') "
                + "group by profile order by profile",
                (rs, n) -> new ProfileCount(rs.getString(1), rs.getLong(2), rs.getLong(3)));
    }

    record Expiring(long in7Days, long in30Days) {
    }

    /** Valid certificates whose notAfter falls within the next 7 and 30 days. */
    Expiring expiring() {
        Instant now = clock.instant();
        return jdbc.queryForObject("select count(*) filter (where not_after < ?), count(*) from certificate "
                + "where status = 'ISSUED' and not_after >= ? and not_after < ?",
                (rs, n) -> new Expiring(rs.getLong(1), rs.getLong(2)), Timestamp.from(now.plus(Duration.ofDays(7))),
                Timestamp.from(now), Timestamp.from(now.plus(Duration.ofDays(30))));
    }

    record Day(LocalDate day, long issued, long revoked) {
    }

    /** Issuances and revocations per UTC day over the last {@code days} days, oldest first. */
    List<Day> perDay(int days) {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        LocalDate first = today.minusDays(days - 1L);
        Timestamp from = Timestamp.from(first.atStartOfDay(ZoneOffset.UTC).toInstant());
        Map<LocalDate, long[]> counts = new LinkedHashMap<>();
        for (LocalDate d = first; !d.isAfter(today); d = d.plusDays(1)) {
            counts.put(d, new long[2]);
        }
        jdbc.query("select (created_at at time zone 'UTC')::date, count(*) from certificate "
                + "where status in ('ISSUED', 'REVOKED') and created_at >= ? group by 1", rs -> {
                    long[] c = counts.get(rs.getDate(1).toLocalDate());
                    if (c != null) {
                        c[0] = rs.getLong(2);
                    }
                }, from);
        jdbc.query("select (revoked_at at time zone 'UTC')::date, count(*) from certificate "
                + "where revoked_at >= ? group by 1", rs -> {
                    long[] c = counts.get(rs.getDate(1).toLocalDate());
                    if (c != null) {
                        c[1] = rs.getLong(2);
                    }
                }, from);
        List<Day> out = new ArrayList<>();
        counts.forEach((d, c) -> out.add(new Day(d, c[0], c[1])));
        return out;
    }

    /** One row of the certificate search. */
    record Row(long id, String serial, String deviceId, String profile, String issuerId, String status,
            Instant notAfter, String revocationReason) {
    }

    record Search(String devicePrefix, String status, String profile, String issuer, Instant expiringBefore) {
    }

    /**
     * Newest first, {@code size} rows after the keyset cursor {@code beforeId} (exclusive; null
     * for the first page), plus one more to tell whether there is a next page. Keyset paging on
     * the primary key stays as fast on the millionth row as on the first (an offset would scan
     * every skipped row); V20 indexes device id prefixes, V21 (profile|issuer, id), V23 revoked rows by id.
     */
    List<Row> search(Search s, Long beforeId, int size) {
        StringBuilder sql = new StringBuilder("select id, serial, device_id, profile, issuer_id, status, not_after, "
                + "revocation_reason from certificate where ");
        List<Object> args = new ArrayList<>();
        if (s.status() != null) {
            sql.append("status = ?");
            args.add(s.status());
            // Revoked rows have their own partial index (V23); the issued ones are most of the table.
            sql.append("REVOKED".equals(s.status()) ? " and revoked_at is not null" : "");
        } else {
            sql.append("status in ('ISSUED', 'REVOKED')");
        }
        if (s.devicePrefix() != null) {
            sql.append(" and device_id like ? escape '\\'");
            args.add(s.devicePrefix().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%");
        }
        if (s.profile() != null) {
            sql.append(" and profile = ?");
            args.add(s.profile());
        }
        if (s.issuer() != null) {
            sql.append(" and issuer_id = ?");
            args.add(s.issuer());
        }
        if (s.expiringBefore() != null) {
            sql.append(" and not_after < ?");
            args.add(Timestamp.from(s.expiringBefore()));
        }
        if (beforeId != null) {
            sql.append(" and id < ?");
            args.add(beforeId);
        }
        sql.append(" order by id desc limit ?");
        args.add(size + 1);
        return jdbc.query(sql.toString(), (rs, n) -> new Row(rs.getLong(1), rs.getString(2), rs.getString(3),
                rs.getString(4), rs.getString(5), rs.getString(6), rs.getTimestamp(7).toInstant(), rs.getString(8)),
                args.toArray());
    }

    record Lineage(String renewedFrom, List<String> renewedTo) {
    }

    /** The certificate this one was renewed from, and those renewed from it. */
    Lineage lineage(String serial) {
        String from = jdbc.query("select p.serial from certificate c join certificate p on p.id = c.renewed_from "
                + "where c.serial = ?", (rs, n) -> rs.getString(1), serial).stream().findFirst().orElse(null);
        List<String> to = jdbc.queryForList("select n.serial from certificate c join certificate n "
                + "on n.renewed_from = c.id where c.serial = ? and n.status in ('ISSUED', 'REVOKED') order by n.id",
                String.class, serial);
        return new Lineage(from, to);
    }

    record Event(long id, Instant occurredAt, String actor, String action, String subject, String details) {
    }

    /**
     * Audit events about {@code subject}, oldest first, committed ones whether or not the sealer
     * has chained them yet (the status history of a certificate is read from these).
     */
    List<Event> eventsAbout(String subject, int limit) {
        return jdbc.query("select id, occurred_at, actor, action, subject, details::text from audit_event "
                + "where subject = ? order by id limit ?", (rs, n) -> new Event(rs.getLong(1),
                        rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getString(6)), subject, limit);
    }

    record ProfileShare(String profile, long count) {
    }

    /** How the given serials divide between profiles (a bulk revocation's dry run). */
    List<ProfileShare> byProfile(List<String> serials) {
        if (serials.isEmpty()) {
            return List.of();
        }
        return jdbc.query("select profile, count(*) from certificate where serial = any(?) group by profile "
                + "order by 2 desc, 1", (rs, n) -> new ProfileShare(rs.getString(1), rs.getLong(2)),
                (Object) serials.toArray(String[]::new));
    }

    record BatchSummary(UUID batchId, String profile, Instant createdAt, String createdBy, Instant expiresAt,
            long tokens, long used) {
    }

    /** Token batches, newest first. */
    List<BatchSummary> batches(int limit) {
        return jdbc.query("select batch_id, min(profile), min(created_at), min(created_by), min(expires_at), count(*), "
                + "count(used_at) from enrollment_token where batch_id is not null group by batch_id "
                + "order by min(created_at) desc limit ?", (rs, n) -> new BatchSummary(rs.getObject(1, UUID.class),
                        rs.getString(2), rs.getTimestamp(3).toInstant(), rs.getString(4),
                        rs.getTimestamp(5).toInstant(), rs.getLong(6), rs.getLong(7)), limit);
    }

    record TokenRow(long id, String deviceId, String profile, Instant createdAt, String createdBy, Instant expiresAt,
            Instant usedAt, String serial) {
    }

    private static final String TOKEN_COLUMNS = "select t.id, t.device_id, t.profile, t.created_at, t.created_by, "
            + "t.expires_at, t.used_at, c.serial from enrollment_token t left join certificate c on c.id = t.certificate_id ";

    private static TokenRow token(java.sql.ResultSet rs) throws java.sql.SQLException {
        Timestamp used = rs.getTimestamp(7);
        return new TokenRow(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
                rs.getString(5), rs.getTimestamp(6).toInstant(), used == null ? null : used.toInstant(),
                rs.getString(8));
    }

    /** The tokens of one batch, by device id. */
    List<TokenRow> batch(UUID batchId) {
        return jdbc.query(TOKEN_COLUMNS + "where t.batch_id = ? order by t.device_id", (rs, n) -> token(rs), batchId);
    }

    /** Single tokens (not in a batch), newest first. */
    List<TokenRow> singleTokens(int limit) {
        return jdbc.query(TOKEN_COLUMNS + "where t.batch_id is null order by t.id desc limit ?", (rs, n) -> token(rs),
                limit);
    }
}
