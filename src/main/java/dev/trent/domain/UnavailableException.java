package dev.trent.domain;

/**
 * A component a request needs (the CA key) is not working now; nothing was done and the same
 * request may succeed later. The message and cause are for the log; the client gets
 * {@link #publicDetail()}. The web layer answers it with 503 and the problem type of its code.
 */
public class UnavailableException extends RuntimeException {

    private final String code;
    private final String title;
    private final String publicDetail;

    public UnavailableException(String code, String title, String publicDetail, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.title = title;
        this.publicDetail = publicDetail;
    }

    /** The stable name of this kind of failure. */
    public String code() {
        return code;
    }

    public String title() {
        return title;
    }

    /** What the client is told (never the internal message). */
    public String publicDetail() {
        return publicDetail;
    }
}
