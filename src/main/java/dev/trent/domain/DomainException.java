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

    public DomainException(Kind kind, String code, String title, String detail) {
        super(detail);
        this.kind = kind;
        this.code = code;
        this.title = title;
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

    public static DomainException forbidden(String code, String title, String detail) {
        return new DomainException(Kind.FORBIDDEN, code, title, detail);
    }
}
