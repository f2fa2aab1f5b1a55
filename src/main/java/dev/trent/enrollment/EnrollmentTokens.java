package dev.trent.enrollment;

import java.sql.Array;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Reads enrollment tokens for enrollment, locking the row. Plain JDBC, like the rest of the
 * enrollment hot path; the token is consumed by the issuance pipeline in the statement that
 * reserves the certificate's serial ({@code dev.trent.inventory.CertificateStore}).
 */
@Component
class EnrollmentTokens {

    private final JdbcTemplate jdbc;

    EnrollmentTokens(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** A token as stored (without its hash), and what it authorises. */
    record Token(long id, String deviceId, String profile, List<String> dnsNames, Instant expiresAt,
            Instant usedAt, Long certificateId) {

        boolean isUsed() {
            return usedAt != null;
        }

        boolean isExpired(Instant now) {
            return !now.isBefore(expiresAt);
        }
    }

    /**
     * Loads the token with this hash and locks its row until the transaction ends, so that two
     * enrollments with one token run one after the other and the second sees the first's outcome.
     */
    Optional<Token> lockByHash(byte[] hash) {
        List<Token> found = jdbc.query("""
                select id, device_id, profile, dns_names, expires_at, used_at, certificate_id
                from enrollment_token where token_hash = ? for no key update""", (rs, n) -> {
                    Array names = rs.getArray("dns_names");
                    Timestamp used = rs.getTimestamp("used_at");
                    return new Token(rs.getLong("id"), rs.getString("device_id"), rs.getString("profile"),
                            List.of((String[]) names.getArray()), rs.getTimestamp("expires_at").toInstant(),
                            used == null ? null : used.toInstant(), rs.getObject("certificate_id", Long.class));
                }, (Object) hash);
        return found.stream().findFirst();
    }

    /**
     * A transaction-scoped lock on a name (PostgreSQL advisory lock): for work that has no row to
     * lock yet, such as the first enrollment of a factory certificate.
     */
    void lockName(String name) {
        jdbc.query("select pg_advisory_xact_lock(hashtextextended(?, 0))", rs -> null, name);
    }
}
