package dev.trent.ca;

/** The CA key could not produce a signature (the key store or, later, the HSM failed). */
public class SigningException extends RuntimeException {
    public SigningException(String message, Throwable cause) {
        super(message, cause);
    }
}
