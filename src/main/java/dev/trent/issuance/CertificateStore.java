package dev.trent.issuance;

import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import dev.trent.config.TrentProperties;

/**
 * Writes certificate records: the durable reservation before a signature, the signed DER after.
 * Plain JDBC on purpose: this is the enrollment hot path (bench/README.md).
 *
 * <p><b>Reservations commit on their own.</b> {@link #reserve} inserts the PENDING row on a
 * connection of a small pool of its own in autocommit mode, so the row is durable (PostgreSQL's
 * synchronous commit) before anything is signed, while the request's transaction, which holds
 * the token's lock, is still open. A separate pool, not a second connection from the main one:
 * requests that each hold a main connection and wait for a second could exhaust the main pool
 * and wait on each other. The reservation takes no lock that the request's transaction holds (it
 * names no token; the token is linked when the DER is stored).
 */
@Component
class CertificateStore implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(CertificateStore.class);

    /** Inserts nothing for a key reported compromised (checked in the same statement, for free). */
    private static final String RESERVE = """
            insert into certificate (issuer_id, serial, device_id, profile, subject_dn, dns_names, not_before,
                not_after, key_type, public_key_sha256, tbs_sha256, status, created_at)
            select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?
            where not exists (select 1 from blocked_key b where b.public_key_sha256 = ?)
            returning id""";

    private static final String STORE_SIGNED = """
            update certificate set der = ?, status = 'ISSUED' where id = ? and status = 'PENDING'""";

    /** Stores the DER, links the token and marks it used, in one statement: all or nothing. */
    private static final String STORE_SIGNED_AND_USE_TOKEN = """
            with c as (update certificate set der = ?, status = 'ISSUED', token_id = ?
                       where id = ? and status = 'PENDING' returning id)
            update enrollment_token set used_at = ?, certificate_id = (select id from c)
            where id = ? and used_at is null and exists (select 1 from c)
            returning certificate_id""";

    private final JdbcTemplate jdbc;
    private final JdbcTemplate reservations;
    private final HikariDataSource ownPool;

    CertificateStore(JdbcTemplate jdbc, DataSource dataSource, TrentProperties properties) {
        this.jdbc = jdbc;
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
    }

    @Override
    public void close() {
        if (ownPool != null) {
            ownPool.close();
        }
    }

    /** The record's facts, fixed before signing. */
    record Pending(String issuerId, String serial, String deviceId, String profile, String subjectDn,
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
        List<Long> ids = reservations.query(con -> {
            PreparedStatement ps = con.prepareStatement(RESERVE);
            int i = 1;
            ps.setString(i++, p.issuerId());
            ps.setString(i++, p.serial());
            ps.setString(i++, p.deviceId());
            ps.setString(i++, p.profile());
            ps.setString(i++, p.subjectDn());
            ps.setArray(i++, con.createArrayOf("text", p.dnsNames().toArray()));
            ps.setTimestamp(i++, Timestamp.from(p.notBefore()));
            ps.setTimestamp(i++, Timestamp.from(p.notAfter()));
            ps.setString(i++, p.keyType());
            ps.setString(i++, p.publicKeySha256());
            ps.setString(i++, p.tbsSha256());
            ps.setTimestamp(i++, Timestamp.from(p.createdAt()));
            ps.setString(i, p.publicKeySha256());
            return ps;
        }, (rs, n) -> rs.getLong(1));
        if (ids.size() == 1) {
            return ids.get(0);
        }
        throw new KeyBlockedException();
    }

    /**
     * In the caller's transaction: stores the signed DER of a PENDING record, which makes it
     * ISSUED, and when it was authorised by an enrollment token, links that token and marks it
     * used by it.
     *
     * @throws IllegalStateException when the record is no longer PENDING (the sweeper abandoned
     *                               it) or the token was already used (its row lock should have
     *                               made that impossible): the caller's transaction rolls back
     */
    void storeSigned(long id, byte[] der, Long tokenId, Instant at) {
        boolean stored = tokenId == null ? jdbc.update(STORE_SIGNED, der, id) == 1
                : jdbc.queryForList(STORE_SIGNED_AND_USE_TOKEN, Long.class, der, tokenId, id, Timestamp.from(at),
                        tokenId).size() == 1;
        if (stored) {
            return;
        }
        // A keyCompromise of this key abandoned the reservation meanwhile (RevocationService).
        if (Boolean.TRUE.equals(jdbc.queryForObject("select exists (select 1 from certificate c join blocked_key b "
                + "on b.public_key_sha256 = c.public_key_sha256 where c.id = ?)", Boolean.class, id))) {
            throw new KeyBlockedException();
        }
        throw new IllegalStateException("certificate record " + id + " is no longer pending (abandoned by the "
                + "sweeper after trent.issuance.pending-timeout?)" + (tokenId == null ? ""
                        : ", or enrollment token " + tokenId + " was already used"));
    }

    /** A reservation whose issuance will not complete: ABANDONED (outside any transaction). */
    boolean abandon(long id) {
        return reservations.update("update certificate set status = 'ABANDONED' where id = ? and status = 'PENDING'",
                id) == 1;
    }

    /** Reservations still PENDING that were made before {@code before}: ABANDONED; their serials. */
    List<String> abandonPendingBefore(Instant before) {
        return reservations.queryForList("update certificate set status = 'ABANDONED' where status = 'PENDING' "
                + "and created_at < ? returning serial", String.class, Timestamp.from(before));
    }

    /** The public key was reported compromised; nothing was written. */
    static final class KeyBlockedException extends RuntimeException {
        KeyBlockedException() {
            super("public key is blocked");
        }
    }
}
