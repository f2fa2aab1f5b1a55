package dev.trent.domain;

/**
 * A request that a capability refuses, said in the domain's terms: what kind of
 * failure it is, a stable code naming it (documented in docs/, e.g. {@code manufacturer-ca-exists})
 * and a detail that tells the client what was wrong and how to fix it. The web layer
 * ({@code dev.trent.web.ProblemHandler}) maps the kind to an HTTP status and the code to a problem
 * type; services throw this, not HTTP-level exceptions.
 */
public class DomainException extends RuntimeException {

    /** What went wrong, as far as the caller is concerned. */
    public enum Kind {
        /** The request is malformed or asks for something that does not exist in the configuration. */
        INVALID,
        /** The request's credential is missing, unknown, expired or used up (who is asking is not known). */
        UNAUTHENTICATED,
        /** The caller may not do this (a credential or channel is not accepted). */
        FORBIDDEN,
        /** The addressed resource does not exist. */
        NOT_FOUND,
        /** The request contradicts the current state (a duplicate, the last of something...). */
        CONFLICT
    }

    private final Kind kind;
    private final String code;
    private final String title;
    private final String challenge;

    public DomainException(Kind kind, String code, String title, String detail) {
        this(kind, code, title, detail, null);
    }

    /**
     * @param challenge see {@link #challenge()}; null for the default
     */
    public DomainException(Kind kind, String code, String title, String detail, String challenge) {
        super(detail);
        this.kind = kind;
        this.code = code;
        this.title = title;
        this.challenge = challenge;
    }

    public Kind kind() {
        return kind;
    }

    /** The stable name of this kind of failure. */
    public String code() {
        return code;
    }

    /** A short summary, the same for every failure with this code. */
    public String title() {
        return title;
    }

    /**
     * How the client should authenticate instead, for an {@link Kind#UNAUTHENTICATED} refusal
     * whose credential is not the usual bearer token: an RFC 9110 challenge such as
     * {@code Basic realm="trent-est"} (a renewal's credential is the TLS client certificate, as on
     * EST); null for the default. The web layer sends it as {@code WWW-Authenticate}.
     *
     * @see <a href="https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1">RFC 9110 11.6.1</a>
     */
    public String challenge() {
        return challenge;
    }

    public static DomainException invalid(String detail) {
        return new DomainException(Kind.INVALID, "invalid-request", "Invalid request", detail);
    }

    public static DomainException invalid(String code, String title, String detail) {
        return new DomainException(Kind.INVALID, code, title, detail);
    }

    public static DomainException notFound(String detail) {
        return new DomainException(Kind.NOT_FOUND, "not-found", "Not found", detail);
    }

    public static DomainException conflict(String code, String title, String detail) {
        return new DomainException(Kind.CONFLICT, code, title, detail);
    }

    public static DomainException unauthenticated(String code, String title, String detail) {
        return new DomainException(Kind.UNAUTHENTICATED, code, title, detail);
    }

    /** An {@link Kind#UNAUTHENTICATED} refusal that names its own {@link #challenge()}. */
    public static DomainException unauthenticated(String code, String title, String detail, String challenge) {
        return new DomainException(Kind.UNAUTHENTICATED, code, title, detail, challenge);
    }

    public static DomainException forbidden(String code, String title, String detail) {
        return new DomainException(Kind.FORBIDDEN, code, title, detail);
    }
}
