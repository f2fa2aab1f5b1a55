package dev.trent.web;

import java.sql.SQLException;
import java.util.Optional;

import org.springframework.http.HttpStatus;

/**
 * The one place that decides whether an exception is the client's fault, and that logs client
 * errors. An exception thrown by the container or a library because of what the client sent
 * (a query string or form body Tomcat cannot decode, text PostgreSQL refuses to store, a body
 * the client stopped sending) is a 400 with a message saying what was wrong, never a 500.
 * {@link ClientErrorLog} logs them.
 */
public final class ClientErrors {

    private ClientErrors() {
    }

    /** The client error {@code e} (or one of its causes) stands for, if it is one. */
    public static Optional<ProblemException> classify(Throwable e) {
        // A lost database connection is never the client's fault, whatever it wraps (the driver
        // reports a dead backend as SQLSTATE 08006 caused by an EOFException).
        if (DatabaseUnavailable.causedBy(e)) {
            return Optional.empty();
        }
        boolean underSql = false;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            underSql |= t instanceof SQLException;
            if (t instanceof ProblemException p) {
                return Optional.of(p);
            }
            if (t instanceof dev.trent.domain.DomainException d) {
                return Optional.of(ProblemException.of(d));
            }
            if (t instanceof org.springframework.http.converter.HttpMessageNotReadableException) {
                return Optional.of(ProblemException.invalidRequest("The request body cannot be read as its "
                        + "Content-Type says."));
            }
            if (t instanceof org.apache.tomcat.util.http.InvalidParameterException) {
                return Optional.of(ProblemException.invalidRequest("The query string or form body cannot be decoded: "
                        + "a bad %-escape, bytes that are not UTF-8, or too many parameters."));
            }
            if (t instanceof org.springframework.security.web.firewall.RequestRejectedException) {
                // The firewall checks parameter names and header values when they are first read,
                // which may be in a controller; its message quotes the input, so it is not echoed.
                return Optional.of(ProblemException.invalidRequest("A parameter name or value, or a header, contains "
                        + "a character Trent does not accept (a control character or a line break)."));
            }
            if (t instanceof org.apache.coyote.BadRequestException) {
                return Optional.of(ProblemException.invalidRequest("The request body is malformed (its chunked "
                        + "transfer encoding cannot be read)."));
            }
            if (t instanceof org.apache.catalina.connector.ClientAbortException
                    || (t instanceof java.io.EOFException && !underSql)) {
                return Optional.of(ProblemException.invalidRequest("The request body ended before its declared "
                        + "length, or the connection was closed while it was read."));
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("22")) {
                return Optional.of(new RefusedValue(sql.getSQLState(), dataException(sql.getSQLState()).getMessage(),
                        origin(sql)));
            }
        }
        return Optional.empty();
    }

    /**
     * A 400 for a value PostgreSQL refused (SQLSTATE class 22). Usually the client's (a NUL in a
     * name, a year PostgreSQL cannot store), but it may be a value Trent made itself: so it is
     * logged at WARN ({@link ClientErrorLog}) with the SQL state and where in Trent the statement
     * ran, never with the value or PostgreSQL's message (which quotes it).
     */
    static final class RefusedValue extends ProblemException {
        private final String sqlState;
        private final String origin;

        RefusedValue(String sqlState, String detail, String origin) {
            super(HttpStatus.BAD_REQUEST, "invalid-request", "Invalid request", detail);
            this.sqlState = sqlState;
            this.origin = origin;
        }

        String sqlState() {
            return sqlState;
        }

        /** The innermost frame of Trent's own code that ran the statement, or "?". */
        String origin() {
            return origin;
        }
    }

    private static String origin(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().startsWith("dev.trent.")) {
                return e.getClassName() + "." + e.getMethodName() + ":" + e.getLineNumber();
            }
        }
        return "?";
    }

    /** SQLSTATE class 22, "data exception": a value from the request that PostgreSQL cannot store or compare. */
    private static ProblemException dataException(String state) {
        String what = switch (state) {
            case "22021", "22P05" -> "Text must not contain the NUL character (U+0000) or bytes that are not UTF-8.";
            case "22023" -> "Text must not contain the NUL character (U+0000).";
            case "22008", "22007" -> "A date or time is outside the range Trent can store (years 4713 BC to "
                    + "294276 AD).";
            case "22003" -> "A number is out of range.";
            case "22001" -> "A text value is too long.";
            default -> "A value in the request cannot be stored (SQLSTATE " + state + ").";
        };
        return ProblemException.invalidRequest(what);
    }

    static ProblemException unsupportedMediaType(String detail) {
        return new ProblemException(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type",
                "Unsupported media type", detail);
    }
}
