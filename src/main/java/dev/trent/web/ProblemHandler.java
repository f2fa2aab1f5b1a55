package dev.trent.web;

import java.net.URI;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import dev.trent.domain.DomainException;
import dev.trent.domain.UnavailableException;

/**
 * Turns every error into problem+json: Trent's own {@link ProblemException}s, Spring MVC's
 * (415, 406, 405, bad JSON...), and the unexpected, which gets a 500 without internals.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    private final org.springframework.beans.factory.ObjectProvider<ProblemListener> listeners;

    private final org.springframework.beans.factory.ObjectProvider<RetryAdvice> retry;

    private final ClientErrorLog clientErrors;

    ProblemHandler(org.springframework.beans.factory.ObjectProvider<ProblemListener> listeners,
            org.springframework.beans.factory.ObjectProvider<RetryAdvice> retry, ClientErrorLog clientErrors) {
        this.clientErrors = clientErrors;
        this.listeners = listeners;
        this.retry = retry;
    }

    @ExceptionHandler(ProblemException.class)
    ResponseEntity<ProblemDetail> problem(ProblemException e, jakarta.servlet.http.HttpServletRequest request) {
        ProblemDetail pd = e.toProblemDetail();
        for (ProblemListener listener : listeners) {
            try {
                listener.answered(request, e, pd);
            } catch (RuntimeException failure) {
                log.error("A problem listener failed; the answer stands", failure);
            }
        }
        return respond(pd, e.challenge());
    }

    /** A capability's refusal ({@link DomainException}), mapped as {@link ProblemException#of} says. */
    @ExceptionHandler(DomainException.class)
    ResponseEntity<ProblemDetail> domain(DomainException e, jakarta.servlet.http.HttpServletRequest request) {
        return problem(ProblemException.of(e), request);
    }

    /**
     * A component failed (the CA key): a 503 that says only what the exception makes public; the
     * cause is logged, and a {@link RetryAdvice} (the ca package's) may add {@code Retry-After}.
     */
    @ExceptionHandler(UnavailableException.class)
    ResponseEntity<ProblemDetail> unavailable(UnavailableException e) {
        log.error("{}: {}", e.title(), e.getMessage(), e);
        ResponseEntity<ProblemDetail> r = respond(new ProblemException(HttpStatus.SERVICE_UNAVAILABLE, e.code(),
                e.title(), e.publicDetail()).toProblemDetail());
        java.util.OptionalLong seconds = java.util.OptionalLong.empty();
        for (RetryAdvice advice : retry) {
            seconds = advice.retryAfterSeconds(e);
            if (seconds.isPresent()) {
                break;
            }
        }
        if (seconds.isEmpty()) {
            return r;
        }
        return ResponseEntity.status(r.getStatusCode()).headers(r.getHeaders())
                .header(HttpHeaders.RETRY_AFTER, Long.toString(seconds.getAsLong())).body(r.getBody());
    }

    /** The unexpected, unless {@link ClientErrors} knows it as the client's fault (then a 4xx, logged in one line). */
    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e, jakarta.servlet.http.HttpServletRequest request) {
        java.util.Optional<ProblemException> client = ClientErrors.classify(e);
        if (client.isPresent()) {
            ProblemException p = client.get();
            clientErrors.log(request, p);
            return respond(p.toProblemDetail());
        }
        log.error("Unexpected error", e);
        return respond(new ProblemException(HttpStatus.INTERNAL_SERVER_ERROR, "internal-error",
                "Internal error", "An unexpected error occurred; nothing was changed.").toProblemDetail());
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
            HttpStatusCode statusCode, WebRequest request) {
        ResponseEntity<Object> response = super.handleExceptionInternal(ex, body, headers, statusCode, request);
        if (response != null && response.getBody() instanceof ProblemDetail pd) {
            if (pd.getType() == null || "about:blank".equals(pd.getType().toString())) {
                pd.setType(URI.create(ProblemException.TYPE_BASE + Problems.typeFor(statusCode.value())));
            }
            if (statusCode.is4xxClientError() && request instanceof org.springframework.web.context.request
                    .ServletWebRequest servlet) {
                String type = pd.getType().toString().substring(pd.getType().toString().lastIndexOf('/') + 1);
                clientErrors.log(servlet.getRequest(), statusCode.value(), type, String.valueOf(pd.getDetail()));
            }
            HttpHeaders h = new HttpHeaders();
            h.putAll(response.getHeaders());
            h.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
            return new ResponseEntity<>(pd, h, response.getStatusCode());
        }
        return response;
    }

    static ResponseEntity<ProblemDetail> respond(ProblemDetail pd) {
        return respond(pd, "Bearer");
    }

    static ResponseEntity<ProblemDetail> respond(ProblemDetail pd, String challenge) {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(pd.getStatus());
        if (pd.getStatus() == HttpStatus.UNAUTHORIZED.value()) {
            b.header(HttpHeaders.WWW_AUTHENTICATE, challenge);
        }
        return b.contentType(MediaType.APPLICATION_PROBLEM_JSON).header(HttpHeaders.CACHE_CONTROL, "no-store").body(pd);
    }
}
