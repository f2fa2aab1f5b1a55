package dev.trent.config;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.PreparedStatementCallback;
import org.springframework.jdbc.core.SqlTypeValue;
import org.springframework.jdbc.core.StatementCreatorUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.IllegalTransactionStateException;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Writes of the current transaction whose outcome nobody needs before the commit (an audit event,
 * webhook deliveries, the signed DER of a reserved certificate), sent to PostgreSQL together: one
 * message of several statements (the driver sends them with a single sync), so one round trip
 * instead of one per statement. Each round trip costs Trent and PostgreSQL a send, a receive and a
 * wake-up on each side; an enrollment made six, and two of them go this way (bench/README.md,
 * "Fewer round trips").
 *
 * <p>The writes go in the order they were added, when the transaction {@linkplain #flush flushes}
 * them (an enrollment does, as its last step, so that a failed check counts as the enrollment's
 * failure) or else just before it commits; never when it rolls back. A write is therefore not
 * visible to reads of the same transaction until then: only writes that nothing reads in their own
 * transaction are added here. A {@link Check} sees what its statement returned (its rows, or the
 * number of rows it changed) and may throw, which rolls the transaction back. A transaction
 * suspended by a nested {@code REQUIRES_NEW} one keeps its writes; the nested one has its own.
 */
@Component
public class WriteBehind {

    /** What a write's statement returned, checked after the round trip. */
    @FunctionalInterface
    public interface Check {

        /**
         * @param rows  the rows of a statement that returns rows ({@code returning ...}), else null
         * @param count the number of rows a statement without result rows changed, else -1
         */
        void accept(List<Object[]> rows, int count) throws SQLException;
    }

    private record Write(String sql, Object[] args, Check check) {
    }

    /** The writes of one transaction, bound to it as a transaction resource. */
    private static final class Writes implements TransactionSynchronization {
        private final WriteBehind owner;
        private final List<Write> list = new ArrayList<>();

        Writes(WriteBehind owner) {
            this.owner = owner;
        }

        @Override
        public void suspend() {
            TransactionSynchronizationManager.unbindResource(owner);
        }

        @Override
        public void resume() {
            TransactionSynchronizationManager.bindResource(owner, this);
        }

        @Override
        public void beforeCommit(boolean readOnly) {
            owner.flush();
        }

        @Override
        public void afterCompletion(int status) {
            TransactionSynchronizationManager.unbindResourceIfPossible(owner);
        }
    }

    private final JdbcTemplate jdbc;

    public WriteBehind(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Adds a write whose outcome needs no check (an insert that fails only on an error). */
    public void add(String sql, Object... args) {
        add(sql, args, null);
    }

    /**
     * Adds a write to the current transaction.
     *
     * @param check run on what the statement returned, after the round trip; null for none
     * @throws IllegalTransactionStateException outside a transaction
     */
    public void add(String sql, Object[] args, Check check) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()
                || !TransactionSynchronizationManager.isSynchronizationActive()) {
            throw new IllegalTransactionStateException("a write-behind statement belongs to a transaction");
        }
        if (sql.contains(";") || sql.contains("--")) {
            // One statement per write, so that each result is its own write's (a comment would
            // swallow the separator that follows it).
            throw new IllegalArgumentException("a write-behind statement is one statement without ';' or comments");
        }
        Writes writes = (Writes) TransactionSynchronizationManager.getResource(this);
        if (writes == null) {
            writes = new Writes(this);
            TransactionSynchronizationManager.bindResource(this, writes);
            TransactionSynchronizationManager.registerSynchronization(writes);
        }
        writes.list.add(new Write(sql, args.clone(), check));
        if (writes.list.size() >= MAX_PENDING) {
            // A transaction of many writes (a bulk revocation's audit events): sent in parts.
            flush();
        }
    }

    /** Writes sent together at most. */
    static final int MAX_PENDING = 100;

    /** Sends the current transaction's writes, in one round trip, and runs their checks in order. */
    public void flush() {
        Writes writes = (Writes) TransactionSynchronizationManager.getResource(this);
        if (writes == null || writes.list.isEmpty()) {
            return;
        }
        List<Write> batch = List.copyOf(writes.list);
        writes.list.clear();
        StringBuilder sql = new StringBuilder();
        for (Write w : batch) {
            sql.append(sql.isEmpty() ? "" : ";\n").append(w.sql());
        }
        jdbc.execute(sql.toString(), (PreparedStatementCallback<Void>) ps -> {
            int i = 1;
            for (Write w : batch) {
                for (Object arg : w.args()) {
                    if (arg == null) {
                        // Typed by the server from the statement (TYPE_UNKNOWN would ask it first: a round trip).
                        ps.setNull(i++, Types.NULL);
                    } else {
                        StatementCreatorUtils.setParameterValue(ps, i++, SqlTypeValue.TYPE_UNKNOWN, arg);
                    }
                }
            }
            boolean hasRows = ps.execute();
            // Every result first (they have all arrived), then the checks, which may query.
            List<List<Object[]>> rows = new ArrayList<>(batch.size());
            int[] counts = new int[batch.size()];
            for (int w = 0; w < batch.size(); w++) {
                rows.add(hasRows ? rows(ps.getResultSet()) : null);
                counts[w] = hasRows ? -1 : ps.getUpdateCount();
                hasRows = ps.getMoreResults();
            }
            if (hasRows || ps.getUpdateCount() != -1) {
                throw new IllegalStateException("more results than write-behind statements");
            }
            for (int w = 0; w < batch.size(); w++) {
                if (batch.get(w).check() != null) {
                    batch.get(w).check().accept(rows.get(w), counts[w]);
                }
            }
            return null;
        });
    }

    private static List<Object[]> rows(ResultSet rs) throws SQLException {
        try (rs) {
            List<Object[]> rows = new ArrayList<>();
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Object[] row = new Object[columns];
                for (int c = 0; c < columns; c++) {
                    row[c] = rs.getObject(c + 1);
                }
                rows.add(row);
            }
            return rows;
        }
    }
}
