package dev.trent.web;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;

/**
 * What counts as "PostgreSQL is unreachable" (gone, hanging, restarting, or refusing
 * connections) as opposed to an error of the request or of Trent: the one definition used by
 * the 503 answers ({@link DatabaseUnavailableResolver} for Spring MVC, {@link DatabaseUnavailableFilter}
 * for the filters before it), OCSP's {@code tryLater} and the CRLs served from memory.
 *
 * <p>RFC 9110 15.6.4: 503 "indicates that the server is currently unable to handle the request
 * due to a temporary overload or scheduled maintenance, which will likely be alleviated after
 * some delay", with {@code Retry-After}. The request did not complete: every write runs in a
 * transaction, which did not commit unless the connection broke during the commit itself (its
 * outcome then unknown); the same request can be sent again either way (an enrollment with the
 * same token and key returns the certificate if it was issued, else issues it).
 *
 * <p>The bean logs an outage: one line every few seconds, not a stack trace per request.
 */
@Component
public final class DatabaseUnavailable {

    private static final Logger log = LoggerFactory.getLogger(DatabaseUnavailable.class);

    /** Seconds a client should wait before trying again. */
    public static final String RETRY_AFTER_SECONDS = "10";

    /** At most one log line per this many milliseconds: an outage is one event, not one per request. */
    private static final long LOG_EVERY_MILLIS = 5_000;
    private final AtomicLong lastLogged = new AtomicLong();
    private final AtomicLong lastTimeoutLogged = new AtomicLong();
    private final Clock clock;

    DatabaseUnavailable(Clock clock) {
        this.clock = clock;
    }

    /** Whether the exception, or one of its causes, says the database cannot be reached now. */
    public static boolean causedBy(Throwable e) {
        return causedBy(e, 0);
    }

    private static boolean causedBy(Throwable e, int depth) {
        if (depth > 3) {
            return false;
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof TransactionSystemException tse && tse.getApplicationException() != null
                    && causedBy(tse.getApplicationException(), depth + 1)) {
                return true;
            }
            if (closedByPool(t)) {
                // A rollback after the connection broke: Hikari closed it, and this failure
                // replaced the one that said why ("Application exception overridden by rollback exception").
                return true;
            }
            if (t instanceof CannotCreateTransactionException || t instanceof DataAccessResourceFailureException
                    || t instanceof TransientDataAccessResourceException
                    || t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException
                    || t instanceof SQLRecoverableException || t instanceof org.hibernate.exception.JDBCConnectionException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null && unreachable(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    private static boolean closedByPool(Throwable t) {
        return t instanceof SQLException sql && sql.getSQLState() == null
                && "Connection is closed".equals(sql.getMessage()) && t.getStackTrace().length > 0
                && t.getStackTrace()[0].getClassName().startsWith("com.zaxxer.hikari.");
    }

    /**
     * SQLSTATE class 08 (connection exception), 57P01-57P03 (admin or crash shutdown, cannot
     * connect now: starting up or in recovery), 53300 (too many connections). Not 57014: a
     * statement canceled by {@code statement_timeout} came from a server that answers
     * ({@link #timedOut}); a server that no longer answers at all ends in the driver's socket
     * timeout, class 08.
     */
    private static boolean unreachable(String state) {
        return state.startsWith("08") || state.startsWith("57P") || state.equals("53300");
    }

    /**
     * Whether PostgreSQL canceled a statement of this request because it ran longer than
     * {@code trent.database.statement-timeout} (SQLSTATE 57014, query_canceled): the server
     * answers, this statement was slow (a lock held elsewhere, a large search). Not an outage:
     * readiness and OCSP's live signing are not affected, and nothing says a retry will do better.
     */
    public static boolean timedOut(Throwable e) {
        if (causedBy(e)) {
            return false;
        }
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof QueryTimeoutException || t instanceof jakarta.persistence.QueryTimeoutException
                    || t instanceof SQLException sql && "57014".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The problem a client gets for {@link #timedOut}: 503 (RFC 9110 15.6.4: "currently unable to
     * handle the request") with {@code https://trent.dev/problems/database-timeout}, distinct from
     * an outage, and without {@code Retry-After}, which would promise that waiting helps.
     */
    public static ProblemException timeoutProblem() {
        return new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, "database-timeout", "Database timeout",
                "A database statement of this request ran longer than Trent's statement timeout and was canceled; "
                        + "the request did not complete. It may succeed when the database is less busy; a search may "
                        + "need narrower filters.");
    }

    /** The problem a client gets; 503 with {@code https://trent.dev/problems/database-unavailable}. */
    public static ProblemException problem() {
        return new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, "database-unavailable", "Database unavailable",
                "Trent's database cannot be reached right now; the request did not complete. Try again in "
                        + RETRY_AFTER_SECONDS + " seconds.");
    }

    /** Logs a statement timeout in one line, at most every few seconds (without the statement). */
    public void timeoutLogged(String where) {
        long now = clock.millis();
        long last = lastTimeoutLogged.get();
        if (now - last >= LOG_EVERY_MILLIS && lastTimeoutLogged.compareAndSet(last, now)) {
            log.warn("Database statement canceled by the statement timeout ({})", where);
        }
    }

    /** Logs the outage in one line, at most every few seconds. */
    public void logged(Throwable e, String where) {
        long now = clock.millis();
        long last = lastLogged.get();
        if (now - last >= LOG_EVERY_MILLIS && lastLogged.compareAndSet(last, now)) {
            log.warn("Database unavailable ({}): {}", where, rootMessage(e));
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }
}
