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

    /** INSERT statements sent (one per batch). */
    private final java.util.concurrent.atomic.AtomicInteger statements = new java.util.concurrent.atomic.AtomicInteger();

    private ReservationBatches batches() {
        return new ReservationBatches(new JdbcTemplate(dataSource) {
            @Override
            public <T> T execute(org.springframework.jdbc.core.ConnectionCallback<T> action) {
                statements.incrementAndGet();
                return super.execute(action);
            }
        }, CertificateStatus.PENDING.sql());
    }

    private CertificateStore.Pending pending(String serial, String device, String keySha256) {
        String issuerId = jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        return new CertificateStore.Pending(issuerId, serial, device, "device", "CN=" + device,
                List.of(device + ".example"), now, now.plusSeconds(3600), "EC_P256", keySha256, "11".repeat(32), now);
    }

    private static String serial() {
        return "7b" + HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(), 0, 12);
    }

    /** Runs {@code each} for i in [0, n) on THREADS threads released together; the outcome of each. */
    private static Map<Integer, Object> concurrently(int n, java.util.function.IntFunction<Object> each)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
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
        pool.shutdown();
        return outcomes;
    }

    @Test
    void reserveWhenConcurrentThenEachRowCommittedWithItsOwnIdInFewerStatements() throws Exception {
        ReservationBatches batches = batches();
        String run = UUID.randomUUID().toString().substring(0, 8);
        int n = 20 * THREADS;
        String[] serials = new String[n];
        for (int i = 0; i < n; i++) {
            serials[i] = serial();
        }

        Map<Integer, Object> ids = concurrently(n, i -> {
            long id = batches.reserve(pending(serials[i], "batch-" + run + "-" + i, "ab".repeat(32)));
            // Committed before reserve returned: another connection sees it.
            assertThat(new JdbcTemplate(dataSource).queryForObject("select serial from certificate where id = ?",
                    String.class, id)).isEqualTo(serials[i]);
            return id;
        });

        assertThat(ids).hasSize(n).allSatisfy((i, id) -> assertThat(id).isInstanceOf(Long.class));
        assertThat(ids.values()).doesNotHaveDuplicates();
        for (int i = 0; i < n; i++) {
            assertThat(jdbc.queryForObject("select device_id || ' ' || status || ' ' || dns_names[1] from certificate "
                    + "where id = ?", String.class, ids.get(i))).isEqualTo("batch-" + run + "-" + i + " PENDING batch-"
                            + run + "-" + i + ".example");
        }
        assertThat(statements.get()).as("statements for %d concurrent reservations", n).isLessThan(n);
    }

    @Test
    void reserveWhenOneKeyIsBlockedOrOneSerialCollidesThenOnlyThatOneFails() throws Exception {
        ReservationBatches batches = batches();
        String run = UUID.randomUUID().toString().substring(0, 8);
        String blocked = HexFormat.of().formatHex(UUID.randomUUID().toString().getBytes(), 0, 32);
        jdbc.update("insert into blocked_key (public_key_sha256, blocked_at, serial, blocked_by) values (?, now(), ?, ?)",
                blocked, "00", "test");
        String taken = serial();
        batches.reserve(pending(taken, "taken-" + run, "cd".repeat(32)));
        int n = 4 * THREADS;

        Map<Integer, Object> outcomes = concurrently(n, i -> batches.reserve(pending(i == 7 ? taken : serial(),
                "mixed-" + run + "-" + i, i == 3 ? blocked : "cd".repeat(32))));

        assertThat(outcomes.get(3)).isInstanceOf(CertificateStore.KeyBlockedException.class);
        assertThat(outcomes.get(7)).isInstanceOf(DataIntegrityViolationException.class);
        assertThat(outcomes).allSatisfy((i, outcome) -> {
            if (i != 3 && i != 7) {
                assertThat(outcome).as("reservation %d", i).isInstanceOf(Long.class);
            }
        });
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id like ?", Integer.class,
                "mixed-" + run + "-%")).isEqualTo(n - 2);
    }
}
