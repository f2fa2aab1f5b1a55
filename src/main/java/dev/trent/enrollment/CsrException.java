package dev.trent.enrollment;

/** The one checked exception of {@link CsrDecoder}: the bytes are not an acceptable CSR. */
public class CsrException extends Exception {

    /** Why: decides the problem type the client sees. */
    public enum Kind {
        MALFORMED, BAD_SIGNATURE
    }

    private final Kind kind;

    CsrException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    CsrException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
