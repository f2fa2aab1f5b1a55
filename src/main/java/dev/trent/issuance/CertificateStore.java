package dev.trent.issuance;

import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Writes certificate records. Plain JDBC on purpose: this is the enrollment hot path, and two
 * statements per certificate (reserve, then store the DER) with no ORM bookkeeping measurably
 * raise throughput (bench/README.md). Queries go through the JPA repository in
 * {@code dev.trent.inventory}.
 */
@Component
class CertificateStore {

    /** Inserts nothing for a key reported compromised (checked in the same statement, for free). */
    private static final String INSERT_PENDING = """
            insert into certificate (issuer_id, serial, device_id, profile, subject_dn, dns_names, not_before,
                not_after, key_type, public_key_sha256, token_id, status, created_at)
            select ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', ?
            where not exists (select 1 from blocked_key b where b.public_key_sha256 = ?)
            returning id""";

    /** Reserves the serial and consumes the token in one statement: both or neither. */
    private static final String INSERT_PENDING_AND_USE_TOKEN = "with c as (" + INSERT_PENDING + """
            )
            update enrollment_token set used_at = ?, certificate_id = (select id from c)
            where id = ? and used_at is null and exists (select 1 from c)
            returning certificate_id""";

    private static final String STORE_SIGNED = """
            update certificate set der = ?, status = 'ISSUED' where id = ? and status = 'PENDING'""";

    private final JdbcTemplate jdbc;

    CertificateStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** The record's facts, fixed before signing. */
    record Pending(String issuerId, String serial, String deviceId, String profile, String subjectDn,
            List<String> dnsNames, Instant notBefore, Instant notAfter, String keyType, String publicKeySha256,
            Long tokenId, Instant createdAt) {
    }

    /**
     * Inserts the record as PENDING (the unique constraints reserve its serial) and, when it was
     * authorised by an enrollment token, marks that token used by it.
     *
     * @return the record's id
     * @throws KeyBlockedException   when the key was reported compromised
     * @throws IllegalStateException when the token was already used (its row lock should have
     *                               made that impossible)
     */
    long reserve(Pending p) {
        String sql = p.tokenId() == null ? INSERT_PENDING : INSERT_PENDING_AND_USE_TOKEN;
        List<Long> ids = jdbc.query(con -> {
            PreparedStatement ps = con.prepareStatement(sql);
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
            ps.setObject(i++, p.tokenId());
            ps.setTimestamp(i++, Timestamp.from(p.createdAt()));
            ps.setString(i++, p.publicKeySha256());
            if (p.tokenId() != null) {
                ps.setTimestamp(i++, Timestamp.from(p.createdAt()));
                ps.setLong(i, p.tokenId());
            }
            return ps;
        }, (rs, n) -> rs.getLong(1));
        if (ids.size() == 1) {
            return ids.get(0);
        }
        if (Boolean.TRUE.equals(jdbc.queryForObject(
                "select exists (select 1 from blocked_key where public_key_sha256 = ?)", Boolean.class,
                p.publicKeySha256()))) {
            throw new KeyBlockedException();
        }
        throw new IllegalStateException("enrollment token " + p.tokenId() + " was already used");
    }

    /** Stores the signed DER of a PENDING record, which makes it ISSUED. */
    void storeSigned(long id, byte[] der) {
        int n = jdbc.update(STORE_SIGNED, der, id);
        if (n != 1) {
            throw new IllegalStateException("certificate record " + id + " is not pending");
        }
    }

    /** The public key was reported compromised; nothing was written. */
    static final class KeyBlockedException extends RuntimeException {
        KeyBlockedException() {
            super("public key is blocked");
        }
    }
}
