package dev.trent.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.trent.support.IntegrationTest;

/**
 * Concurrent reservations committed together: each caller gets its own row's id, committed
 * before it returns, in fewer statements than reservations; a blocked key or a colliding serial
 * fails only its own reservation.
 */
class ReservationBatchesIT extends IntegrationTest {

    private static final int THREADS = 32;

    @Autowired
    private DataSource dataSource;

    /** Connections taken (one per batch). */
    private final java.util.concurrent.atomic.AtomicInteger statements = new java.util.concurrent.atomic.AtomicInteger();
    /** Open once the first batch (reservation 0 alone) asked for its connection. */
    private final CountDownLatch firstBatchSent = new CountDownLatch(1);

    /** Reservation 0 first, alone in the first batch; the others queue while it is in flight. */
    private void afterTheFirst(int i) {
        try {
            if (i != 0 && !firstBatchSent.await(20, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the first batch was never sent");
            }
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Batches on the application's DataSource; the first batch's connection comes {@code delayMs}
     * late, so that every other reservation of a concurrent start waits for the second batch.
     */
    private ReservationBatches batches(DataSource from, long delayMs) {
        return new ReservationBatches(new org.springframework.jdbc.datasource.DelegatingDataSource(from) {
            @Override
            public java.sql.Connection getConnection() throws java.sql.SQLException {
                if (statements.incrementAndGet() == 1) {
                    firstBatchSent.countDown();
                    try {
                        Thread.sleep(delayMs);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return super.getConnection();
            }
        }, CertificateStatus.PENDING.sql());
    }

    private String issuerId;

    /** A reservation's facts (no query: the threads of a test reach reserve together). */
    private CertificateStore.Pending pending(String serial, String device, String keySha256) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return new CertificateStore.Pending(issuerId, serial, device, "device", "CN=" + device,
                List.of(device + ".example"), now, now.plusSeconds(3600), "EC_P256", keySha256, "11".repeat(32), now);
    }

    private static String serial() {
        return "7b" + HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(), 0, 12);
    }

    /** Runs {@code each} for i in [0, n) on n threads released together; the outcome of each. */
    private static Map<Integer, Object> concurrently(int n, java.util.function.IntFunction<Object> each)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            CountDownLatch go = new CountDownLatch(1);
            Map<Integer, Object> outcomes = new ConcurrentHashMap<>();
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                futures.add(pool.submit(() -> {
                    go.await();
                    try {
                        outcomes.put(k, each.apply(k));
                    } catch (RuntimeException e) {
                        outcomes.put(k, e);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
            return outcomes;
        } finally {
            pool.shutdownNow();
        }
    }

    @org.junit.jupiter.api.BeforeEach
    void activeIssuer() {
        issuerId = jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
    }

    @Test
    void reserveWhenConcurrentThenEachRowCommittedWithItsOwnIdInOneStatementPerBatch() throws Exception {
        ReservationBatches batches = batches(dataSource, 500);
        String run = UUID.randomUUID().toString().substring(0, 8);
        String[] serials = new String[THREADS];
        for (int i = 0; i < THREADS; i++) {
            serials[i] = serial();
        }

        Map<Integer, Object> ids = concurrently(THREADS, i -> {
            afterTheFirst(i);
            long id = batches.reserve(pending(serials[i], "batch-" + run + "-" + i, "ab".repeat(32)));
            // Committed before reserve returned: another connection sees it.
            assertThat(new JdbcTemplate(dataSource).queryForObject("select serial from certificate where id = ?",
                    String.class, id)).isEqualTo(serials[i]);
            return id;
        });

        assertThat(ids).hasSize(THREADS).allSatisfy((i, id) -> assertThat(id).isInstanceOf(Long.class));
        assertThat(ids.values()).doesNotHaveDuplicates();
        for (int i = 0; i < THREADS; i++) {
            assertThat(jdbc.queryForObject("select device_id || ' ' || status || ' ' || dns_names[1] from certificate "
                    + "where id = ?", String.class, ids.get(i))).isEqualTo("batch-" + run + "-" + i + " PENDING batch-"
                            + run + "-" + i + ".example");
        }
        // The first alone, every other one in the second batch (they queued while it was in flight).
        assertThat(statements).as("statements for %d concurrent reservations; rows per transaction: %s", THREADS,
                jdbc.queryForList("select xmin::text || ':' || count(*) || ':' || min(device_id) from certificate "
                        + "where device_id like ? group by xmin order by 1", String.class, "batch-" + run + "-%"))
                .hasValue(2);
    }

    @Test
    void reserveWhenOneKeyIsBlockedOrOneSerialCollidesThenOnlyThatOneFails() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String blocked = HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(), 0, 32);
        jdbc.update("insert into blocked_key (public_key_sha256, blocked_at, serial, blocked_by) values (?, now(), ?, ?)",
                blocked, "00", "test");
        String taken = serial();
        jdbc.update("insert into certificate (issuer_id, serial, device_id, profile, subject_dn, not_before, not_after, "
                + "key_type, public_key_sha256, status, created_at) select id, ?, ?, 'device', 'CN=x', now(), now(), "
                + "'EC_P256', ?, 'ABANDONED', now() from issuer where state = 'ACTIVE'", taken, "taken-" + run,
                "cd".repeat(32));
        ReservationBatches batches = batches(dataSource, 500);

        Map<Integer, Object> outcomes = concurrently(THREADS, i -> {
            afterTheFirst(i);
            return batches.reserve(pending(i == 7 ? taken : serial(), "mixed-" + run + "-" + i,
                    i == 3 ? blocked : "cd".repeat(32)));
        });

        assertThat(outcomes.get(3)).isInstanceOf(CertificateStore.KeyBlockedException.class);
        assertThat(outcomes.get(7)).isInstanceOf(DataIntegrityViolationException.class);
        assertThat(outcomes).allSatisfy((i, outcome) -> {
            if (i != 3 && i != 7) {
                assertThat(outcome).as("reservation %d", i).isInstanceOf(Long.class);
            }
        });
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id like ?", Integer.class,
                "mixed-" + run + "-%")).isEqualTo(THREADS - 2);
        // The second batch held the colliding one: rolled back, and its rows reserved one by one.
        assertThat(statements).hasValue(2 + THREADS - 1);
    }

    /**
     * A reservation's connection is the statement's only: requests that reserved and go on in
     * their open transactions (signing, storing) hold none of the reservation pool, so a pool of
     * one serves them all.
     */
    @Test
    void reserveWhenCallersHoldTheirTransactionsOpenThenAPoolOfOneServesThemAll() throws Exception {
        com.zaxxer.hikari.HikariConfig config = new com.zaxxer.hikari.HikariConfig();
        ((com.zaxxer.hikari.HikariDataSource) dataSource).copyStateTo(config);
        config.setPoolName("reservations-of-one");
        config.setAutoCommit(true);
        config.setMaximumPoolSize(1);
        config.setConnectionTimeout(2000);
        try (com.zaxxer.hikari.HikariDataSource one = new com.zaxxer.hikari.HikariDataSource(config)) {
            ReservationBatches batches = new ReservationBatches(one, CertificateStatus.PENDING.sql());
            org.springframework.transaction.support.TransactionTemplate tx =
                    new org.springframework.transaction.support.TransactionTemplate(
                            new org.springframework.jdbc.support.JdbcTransactionManager(dataSource));
            String run = UUID.randomUUID().toString().substring(0, 8);
            int n = 8;
            CountDownLatch allReserved = new CountDownLatch(n);

            Map<Integer, Object> outcomes = concurrently(n, i -> tx.execute(status -> {
                jdbc.queryForObject("select 1", Integer.class); // the request's own transaction, open
                long id = batches.reserve(pending(serial(), "open-" + run + "-" + i, "ef".repeat(32)));
                allReserved.countDown();
                try {
                    // Every caller still in its transaction until all have reserved.
                    assertThat(allReserved.await(20, TimeUnit.SECONDS)).isTrue();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return id;
            }));

            assertThat(outcomes).hasSize(n).allSatisfy((i, id) -> assertThat(id).isInstanceOf(Long.class));
        }
    }
}
