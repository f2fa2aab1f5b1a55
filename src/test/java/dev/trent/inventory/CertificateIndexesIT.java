package dev.trent.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.ConnectionCallback;

import dev.trent.support.IntegrationTest;

/**
 * The certificate table's indexes: each one is paid for on every issuance (a reservation insert
 * and the signed DER's update touch them all), so the table keeps exactly those its lookups need,
 * and those lookups use them (plans with a table scan as the planner's last resort).
 */
class CertificateIndexesIT extends IntegrationTest {

    @Test
    void certificateTableWhenMigratedThenNoIndexRepeatsAnother() {
        List<String> indexes = jdbc.queryForList("select indexname from pg_indexes where tablename = 'certificate' "
                + "order by indexname", String.class);

        assertThat(indexes).doesNotContain("certificate_device_idx", "certificate_issuer_id_serial_key");
        assertThat(indexes).containsExactlyInAnyOrder("certificate_pkey", "certificate_serial_key",
                "certificate_device_prefix_idx", "certificate_not_after_idx", "certificate_public_key_idx",
                "certificate_revoked_idx", "certificate_renewed_from_idx", "certificate_profile_id_idx",
                "certificate_issuer_id_idx", "certificate_created_at_idx", "certificate_revoked_at_idx",
                "certificate_revoked_id_idx");
    }

    /**
     * Storing the signed DER changes status and der (and token_id, on an instance of the release
     * before V26 during a rolling upgrade): no index may read them (as a key,
     * an expression or a partial index's predicate), or the update is not HOT and writes an entry
     * into every index of the table (V23).
     */
    @Test
    void certificateIndexesWhenReadThenNoneReadsAColumnTheStoreChanges() {
        List<String> definitions = jdbc.queryForList("select indexdef from pg_indexes where tablename = 'certificate'",
                String.class);
        assertThat(definitions).isNotEmpty().allSatisfy(d -> assertThat(d).doesNotContainPattern(
                "\\b(status|der|token_id)\\b"));
    }

    /** A store is a HOT update: PostgreSQL's own counter of HOT updates moves with an enrollment. */
    @Test
    void enrollmentWhenStoredThenTheRowsUpdateIsHot() throws InterruptedException {
        long before = hotUpdates();
        var c = client();
        var r = c.enroll(c.token(ADMIN_KEY, "hot-" + java.util.UUID.randomUUID(), "device", null),
                "application/x-pem-file", dev.trent.support.TestCsrs.ecP256("hot").pem().getBytes(), null);
        assertThat(r.status()).isEqualTo(201);
        // A backend sends its counters to the statistics at most once a second, and one that
        // sent them less than a second ago and then goes idle waits up to 10 s (PostgreSQL 15+).
        long after = before;
        for (int i = 0; i < 200 && after == before; i++) {
            Thread.sleep(100);
            after = hotUpdates();
        }
        assertThat(after).as("HOT updates of certificate rows").isGreaterThan(before);
    }

    private long hotUpdates() {
        return jdbc.queryForObject("select n_tup_hot_upd from pg_stat_user_tables where relname = 'certificate'",
                Long.class);
    }

    /**
     * The store also consumes the token (used_at, certificate_id): no index of enrollment_token
     * reads them, and its pages keep room for the new version (V25), so PostgreSQL can make that
     * update HOT. (Whether a given update is HOT depends on its page's free space at that moment,
     * which other tests' tokens share here; bench/README.md has the counts of a load run.)
     */
    @Test
    void tokenTableWhenMigratedThenItsStoreUpdateCanBeHot() {
        List<String> definitions = jdbc.queryForList("select indexdef from pg_indexes where tablename = "
                + "'enrollment_token'", String.class);
        assertThat(definitions).hasSize(4).allSatisfy(d -> assertThat(d).doesNotContainPattern(
                "\\b(used_at|certificate_id)\\b"));
        assertThat(jdbc.queryForObject("select array_to_string(reloptions, ',') from pg_class where relname = "
                + "'enrollment_token'", String.class)).isEqualTo("fillfactor=70");
    }

    @Test
    void lookupsWhenByDeviceOrBySerialThenAnIndexServesThem() {
        assertThat(plan("select id from certificate where device_id = ?", "sensor-1"))
                .contains("certificate_device_prefix_idx");
        assertThat(plan("select id from certificate where device_id like ? escape '\\'", "sensor-%"))
                .contains("certificate_device_prefix_idx");
        // A lookup by issuer and serial: the serial's unique index finds the one row (the issuer is
        // checked on it); on a table as small as this one the planner may walk the issuer's index.
        assertThat(plan("select status, issuer_id from certificate where serial = ?", "1f"))
                .contains("certificate_serial_key");
    }

    /** The plan PostgreSQL picks for a query when a table scan is its last resort. */
    private String plan(String sql, Object... args) {
        return jdbc.execute((ConnectionCallback<String>) c -> {
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("set enable_seqscan = off");
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("explain " + sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                StringBuilder out = new StringBuilder();
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.append(rs.getString(1)).append('\n');
                    }
                }
                return out.toString();
            } finally {
                try (java.sql.Statement st = c.createStatement()) {
                    st.execute("reset enable_seqscan");
                }
            }
        });
    }
}
