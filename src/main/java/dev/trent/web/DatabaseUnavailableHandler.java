package dev.trent.web;

import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * 503 problem+json with {@code Retry-After} when a controller fails because PostgreSQL cannot be
 * reached ({@link DatabaseUnavailable}). Ordered before {@link ProblemHandler}, whose catch-all
 * would answer 500; Spring matches these types anywhere in the exception's cause chain.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
class DatabaseUnavailableHandler {

    @ExceptionHandler({CannotCreateTransactionException.class, DataAccessResourceFailureException.class,
        QueryTimeoutException.class, TransientDataAccessResourceException.class, SQLTransientConnectionException.class,
        SQLNonTransientConnectionException.class, SQLRecoverableException.class,
        org.hibernate.exception.JDBCConnectionException.class})
    ResponseEntity<ProblemDetail> unavailable(Exception e) {
        DatabaseUnavailable.logged(e, "request");
        ResponseEntity<ProblemDetail> r = ProblemHandler.respond(DatabaseUnavailable.problem().toProblemDetail());
        return ResponseEntity.status(r.getStatusCode()).headers(r.getHeaders())
                .header(HttpHeaders.RETRY_AFTER, DatabaseUnavailable.RETRY_AFTER_SECONDS).body(r.getBody());
    }
}
