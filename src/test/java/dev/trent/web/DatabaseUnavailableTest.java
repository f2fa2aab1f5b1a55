package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import org.junit.jupiter.api.Test;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.orm.jpa.JpaSystemException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;

/** Which failures mean "the database cannot be reached" (503) and which stay what they were. */
class DatabaseUnavailableTest {

    @Test
    void causedByWhenConnectionFailuresThenTrue() {
        assertThat(DatabaseUnavailable.causedBy(new DataAccessResourceFailureException("x",
                new SQLException("I/O error", "08006")))).isTrue();
        assertThat(DatabaseUnavailable.causedBy(new CannotCreateTransactionException("no connection"))).isTrue();
        assertThat(DatabaseUnavailable.causedBy(new RuntimeException(new SQLTransientConnectionException(
                "pool timeout")))).isTrue();
        assertThat(DatabaseUnavailable.causedBy(new RuntimeException(new SQLException("the database system is "
                + "starting up", "57P03")))).isTrue();
    }

    @Test
    void causedByWhenRollbackOnAConnectionThePoolClosedThenTrue() {
        SQLException closed = new SQLException("Connection is closed");
        closed.setStackTrace(new StackTraceElement[] {new StackTraceElement(
                "com.zaxxer.hikari.pool.ProxyConnection$ClosedConnection", "lambda", "ProxyConnection.java", 559)});
        assertThat(DatabaseUnavailable.causedBy(new JpaSystemException(new RuntimeException("Unable to rollback",
                closed)))).isTrue();
        TransactionSystemException commit = new TransactionSystemException("rollback failed");
        commit.initApplicationException(new DataAccessResourceFailureException("gone"));
        assertThat(DatabaseUnavailable.causedBy(commit)).isTrue();
    }

    @Test
    void causedByWhenOtherFailuresThenFalse() {
        assertThat(DatabaseUnavailable.causedBy(new DataIntegrityViolationException("duplicate",
                new SQLException("duplicate key", "23505")))).isFalse();
        assertThat(DatabaseUnavailable.causedBy(new IllegalStateException("bug"))).isFalse();
        assertThat(DatabaseUnavailable.causedBy(new SQLException("Connection is closed"))).as("not from the pool")
                .isFalse();
        assertThat(DatabaseUnavailable.causedBy(new TransactionSystemException("commit failed"))).isFalse();
    }

    @Test
    void timedOutWhenStatementTimeoutThenTrueAndNotAnOutage() {
        RuntimeException canceled = new RuntimeException(new SQLException("canceling statement due to statement "
                + "timeout", "57014"));
        assertThat(DatabaseUnavailable.causedBy(canceled)).isFalse();
        assertThat(DatabaseUnavailable.timedOut(canceled)).isTrue();
        assertThat(DatabaseUnavailable.timedOut(new org.springframework.dao.QueryTimeoutException("timeout"))).isTrue();
        assertThat(DatabaseUnavailable.timedOut(new DataAccessResourceFailureException("x",
                new SQLException("I/O error", "08006")))).as("an outage is not a timeout").isFalse();
        assertThat(DatabaseUnavailable.timedOut(new IllegalStateException("bug"))).isFalse();
        ProblemException p = DatabaseUnavailable.timeoutProblem();
        assertThat(p.status().value()).isEqualTo(503);
        assertThat(p.type()).isEqualTo("database-timeout").isNotEqualTo(DatabaseUnavailable.problem().type());
    }
}
