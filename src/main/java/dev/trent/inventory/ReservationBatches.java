package dev.trent.inventory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

import javax.sql.DataSource;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.support.SQLStateSQLExceptionTranslator;
import org.springframework.jdbc.support.SQLExceptionTranslator;

/**
 * Reservations of concurrent issuances committed together: one INSERT of several rows and one
 * commit instead of one each (group commit, done by the caller's threads: no thread of its own).
 * A reservation waits while another batch is in flight, then goes with every reservation that
 * arrived meanwhile; its row is committed, durably, before {@link #reserve} returns, exactly as
 * when it went alone, and a row of a batch is never visible without the others. Under load this
 * saves each reservation most of a round trip, a commit and a statement's start-up, on Trent and
 * on PostgreSQL (bench/README.md, "Fewer round trips"); alone, a reservation goes at once.
 *
 * <p>One batch at a time, by whichever waiting thread takes the lock (flat combining): it sends
 * what is queued, up to {@link #MAX_BATCH}, completes those reservations, and wakes the next
 * waiter. A constraint violation of one row (a serial that collides) fails only that row: the
 * batch is rolled back and its rows are reserved one by one. Any other failure (PostgreSQL
 * unreachable) fails every reservation of the batch, as it would have failed each.
 */
final class ReservationBatches {

    /** Rows of one INSERT at most (a burst of a few hundred concurrent enrollments fits in a few). */
    static final int MAX_BATCH = 64;

    private static final String COLUMNS = "issuer_id, serial, device_id, profile, subject_dn, dns_names, not_before, "
            + "not_after, key_type, public_key_sha256, tbs_sha256, status, created_at";

    /** One row's values, typed for VALUES (whose parameters PostgreSQL cannot type from the table). */
    private final String row;

    /** A reservation waiting for its batch; completed by the thread that sent it. */
    private static final class Ticket {
        final CertificateStore.Pending pending;
        final Thread waiter = Thread.currentThread();
        long id;
        RuntimeException failure;
        volatile boolean done;

        Ticket(CertificateStore.Pending pending) {
            this.pending = pending;
        }
    }

    private final DataSource pool;
    private final SQLExceptionTranslator errors;
    private final ConcurrentLinkedQueue<Ticket> queue = new ConcurrentLinkedQueue<>();
    private final ReentrantLock sending = new ReentrantLock();
    /** The INSERT for n rows, made once per n. */
    private final String[] statements = new String[MAX_BATCH + 1];

    /**
     * @param pool    connections in autocommit mode (the reservations' own pool)
     * @param pending the PENDING status as an SQL literal
     */
    ReservationBatches(DataSource pool, String pending) {
        this.pool = pool;
        this.errors = new SQLStateSQLExceptionTranslator(); // by SQLSTATE: no connection needed to set it up
        this.row = "(?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::text[], ?::timestamptz, "
                + "?::timestamptz, ?::varchar, ?::varchar, ?::varchar, " + pending + ", ?::timestamptz)";
    }

    /**
     * Commits the row as PENDING, with the reservations that wait at the same time.
     *
     * @return the row's id
     * @throws CertificateStore.KeyBlockedException when the key was reported compromised (no row)
     */
    long reserve(CertificateStore.Pending pending) {
        Ticket mine = new Ticket(pending);
        queue.add(mine);
        boolean interrupted = false;
        while (!mine.done) {
            if (sending.tryLock()) {
                try {
                    if (!mine.done) {
                        sendQueued();
                    }
                } finally {
                    sending.unlock();
                    // Whoever queued while this batch was in flight sends next (also after an Error).
                    Ticket next = queue.peek();
                    if (next != null) {
                        LockSupport.unpark(next.waiter);
                    }
                }
            } else {
                // Woken when its batch is done, or when it may send the next one. An interrupt
                // does not end the wait (the row may be committed already): kept for the caller.
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (mine.failure != null) {
            throw mine.failure;
        }
        return mine.id;
    }

    /** One batch of what is queued; every reservation taken from the queue is completed, whatever happens. */
    private void sendQueued() {
        List<Ticket> batch = new ArrayList<>();
        try {
            Ticket t;
            while (batch.size() < MAX_BATCH && (t = queue.poll()) != null) {
                batch.add(t);
            }
            send(batch);
        } catch (Throwable e) {
            for (Ticket t : batch) {
                if (!t.done) {
                    complete(t, null, new IllegalStateException("reservation batch failed", e));
                }
            }
            throw e;
        }
    }

    private void send(List<Ticket> batch) {
        try {
            Map<String, Long> ids = insert(batch);
            for (Ticket t : batch) {
                Long id = ids.get(t.pending.serial());
                complete(t, id, id == null ? new CertificateStore.KeyBlockedException() : null);
            }
        } catch (DataIntegrityViolationException e) {
            if (batch.size() == 1) {
                complete(batch.get(0), null, e);
                return;
            }
            // Rolled back whole (one statement, autocommit): each row on its own, so that only the
            // offending one fails.
            for (Ticket t : batch) {
                send(List.of(t));
            }
        } catch (RuntimeException e) {
            for (Ticket t : batch) {
                complete(t, null, e);
            }
        }
    }

    private static void complete(Ticket t, Long id, RuntimeException failure) {
        if (id != null) {
            t.id = id;
        }
        t.failure = failure;
        t.done = true;
        LockSupport.unpark(t.waiter);
    }

    /**
     * The rows inserted, by serial; a row whose key is blocked is not inserted (same statement).
     * On a connection of the reservations' own pool, taken for this statement and returned at
     * once: never bound to the sending thread's transaction (Spring's DataSourceUtils would keep
     * it until that request commits, so each batch would need another connection).
     */
    private Map<String, Long> insert(List<Ticket> batch) {
        String sql = statement(batch.size());
        try (Connection con = pool.getConnection(); PreparedStatement ps = con.prepareStatement(sql)) {
            int i = 1;
            for (Ticket t : batch) {
                CertificateStore.Pending p = t.pending;
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
            }
            Map<String, Long> ids = new HashMap<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.put(rs.getString(2), rs.getLong(1));
                }
            }
            if (!con.getAutoCommit()) {
                con.commit();
            }
            return ids;
        } catch (SQLException e) {
            DataAccessException translated = errors.translate("reserve", sql, e);
            throw translated != null ? translated : new org.springframework.jdbc.UncategorizedSQLException("reserve",
                    sql, e);
        }
    }

    private String statement(int rows) {
        String sql = statements[rows];
        if (sql == null) {
            sql = "insert into certificate (" + COLUMNS + ") select * from (values " + String.join(", ",
                    java.util.Collections.nCopies(rows, row)) + ") v (" + COLUMNS + ") where not exists (select 1 "
                    + "from blocked_key b where b.public_key_sha256 = v.public_key_sha256) returning id, serial";
            statements[rows] = sql;
        }
        return sql;
    }
}
