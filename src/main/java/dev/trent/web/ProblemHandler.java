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

import dev.trent.ca.SigningException;

/**
 * Turns every error into problem+json: Trent's own {@link ProblemException}s, Spring MVC's
 * (415, 406, 405, bad JSON...), and the unexpected, which gets a 500 without internals.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    private final org.springframework.beans.factory.ObjectProvider<dev.trent.audit.AuditLog> audit;
    private final org.springframework.beans.factory.ObjectProvider<dev.trent.audit.FailureBursts> bursts;

    private final org.springframework.beans.factory.ObjectProvider<dev.trent.ca.IssuerRegistry> issuers;

    private final ClientErrorLog clientErrors;

    ProblemHandler(org.springframework.beans.factory.ObjectProvider<dev.trent.audit.AuditLog> audit,
            org.springframework.beans.factory.ObjectProvider<dev.trent.audit.FailureBursts> bursts,
            org.springframework.beans.factory.ObjectProvider<dev.trent.ca.IssuerRegistry> issuers,
            ClientErrorLog clientErrors) {
        this.clientErrors = clientErrors;
        this.issuers = issuers;
        this.audit = audit;
        this.bursts = bursts;
    }

    @ExceptionHandler(ProblemException.class)
    ResponseEntity<ProblemDetail> problem(ProblemException e, jakarta.servlet.http.HttpServletRequest request) {
        ProblemDetail pd = e.toProblemDetail();
        auditRefusal(e, pd, request);
        return respond(pd, e.challenge());
    }

    /**
     * Enrollment refusals in the audit log. A refusal of a request whose credential Trent had
     * accepted (a known token, a Trent or factory certificate; see
     * {@code EnrollmentService.CREDENTIAL_ACCEPTED}) is recorded as {@code enrollment.refused}
     * with the device as actor; any other refusal (no or an unknown credential) is counted per
     * address and recorded only as a burst, so that anonymous traffic cannot flood the log.
     * Protocol errors (413, 415, 404, tls-required) are not security decisions and stay out.
     */
    private void auditRefusal(ProblemException e, ProblemDetail pd, jakarta.servlet.http.HttpServletRequest request) {
        String path = request.getRequestURI();
        if (!dev.trent.security.DevicePaths.matches(path)) {
            return;
        }
        String type = pd.getType().toString().substring(ProblemException.TYPE_BASE.length());
        int status = e.status().value();
        if (type.equals("tls-required") || status != 400 && status != 401 && status != 403 && status != 409) {
            return;
        }
        Object device = request.getAttribute(dev.trent.enrollment.EnrollmentService.CREDENTIAL_ACCEPTED);
        try {
            if (device == null) {
                bursts.getObject().failed(request.getRemoteAddr(), "enrollment");
                return;
            }
            java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
            details.put("path", path);
            details.put("status", status);
            details.put("problem", type);
            details.put("detail", e.getMessage());
            details.put("remoteAddress", request.getRemoteAddr());
            audit.getObject().recordStandalone("device:" + device, "enrollment.refused", path, details);
        } catch (RuntimeException failure) {
            // The refusal itself stands; losing its record is logged, not turned into a 500.
            log.error("Could not record the refusal in the audit log", failure);
        }
    }

    @ExceptionHandler(SigningException.class)
    ResponseEntity<ProblemDetail> signing(SigningException e) {
        log.error("CA signer failed", e);
        ResponseEntity<ProblemDetail> r = respond(new ProblemException(HttpStatus.SERVICE_UNAVAILABLE,
                "signer-unavailable", "CA signer unavailable", "The CA could not sign; nothing was issued. Try again "
                        + "later.").toProblemDetail());
        dev.trent.ca.IssuerRegistry registry = issuers.getIfAvailable();
        if (registry == null || registry.active().key().available()) {
            return r; // the key is reachable yet failed: waiting is no cure, so no Retry-After
        }
        // RFC 9110 10.2.3: the key is unreachable (an HSM outage); the same request succeeds once
        // it is back, nothing having been consumed.
        return ResponseEntity.status(r.getStatusCode()).headers(r.getHeaders()).header(HttpHeaders.RETRY_AFTER, "30")
                .body(r.getBody());
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
