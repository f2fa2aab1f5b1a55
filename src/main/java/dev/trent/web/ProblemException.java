package dev.trent.web;

import java.net.URI;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

/**
 * A failure that the client should see as RFC 9457 problem+json, with a stable {@code type} per
 * kind of error and a detail that says what was wrong and how to fix it.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc9457">RFC 9457</a>
 */
public class ProblemException extends RuntimeException {

    /** Base of every problem type URI; docs/devices.md lists the types. */
    public static final String TYPE_BASE = "https://trent.dev/problems/";

    private final HttpStatus status;
    private final String type;
    private final String title;
    private String challenge = "Bearer";

    public ProblemException(HttpStatus status, String type, String title, String detail) {
        super(detail);
        this.status = status;
        this.type = type;
        this.title = title;
    }

    public HttpStatus status() {
        return status;
    }

    /** The slug of the problem type ({@code https://trent.dev/problems/<slug>}). */
    public String type() {
        return type;
    }

    /** The {@code WWW-Authenticate} challenge a 401 carries (Bearer unless set). */
    public String challenge() {
        return challenge;
    }

    /** Sets the challenge of a 401, e.g. {@code Basic realm="..."} for EST. */
    public ProblemException withChallenge(String challenge) {
        this.challenge = challenge;
        return this;
    }

    public ProblemDetail toProblemDetail() {
        ProblemDetail pd = ProblemDetail.forStatusAndDetail(status, getMessage());
        pd.setType(URI.create(TYPE_BASE + type));
        pd.setTitle(title);
        return pd;
    }

    public static ProblemException badRequest(String type, String title, String detail) {
        return new ProblemException(HttpStatus.BAD_REQUEST, type, title, detail);
    }

    /**
     * The problem a domain failure is answered with: its kind decides the status, its code the
     * type, its challenge (if any) a 401's {@code WWW-Authenticate}, so that a service need not
     * know HTTP.
     */
    public static ProblemException of(dev.trent.domain.DomainException e) {
        HttpStatus status = switch (e.kind()) {
            case INVALID -> HttpStatus.BAD_REQUEST;
            case UNAUTHENTICATED -> HttpStatus.UNAUTHORIZED;
            case FORBIDDEN -> HttpStatus.FORBIDDEN;
            case NOT_FOUND -> HttpStatus.NOT_FOUND;
            case CONFLICT -> HttpStatus.CONFLICT;
        };
        ProblemException p = new ProblemException(status, e.code(), e.title(), e.getMessage());
        return e.challenge() == null ? p : p.withChallenge(e.challenge());
    }

    public static ProblemException notFound(String detail) {
        return new ProblemException(HttpStatus.NOT_FOUND, "not-found", "Not found", detail);
    }

    public static ProblemException invalidRequest(String detail) {
        return badRequest("invalid-request", "Invalid request", detail);
    }

    public static ProblemException notAcceptable(String detail) {
        return new ProblemException(HttpStatus.NOT_ACCEPTABLE, "not-acceptable", "Not acceptable", detail);
    }
}
