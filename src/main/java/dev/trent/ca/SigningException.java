package dev.trent.ca;

import dev.trent.domain.DomainException;

/**
 * The CA key could not produce a signature (the key store or the HSM failed). The client learns
 * only that the signer is unavailable and nothing was issued; the message and cause are logged.
 */
public class SigningException extends DomainException {

    public SigningException(String message, Throwable cause) {
        super(Kind.UNAVAILABLE, "signer-unavailable", "CA signer unavailable", message, cause);
    }

    @Override
    public String publicDetail() {
        return "The CA could not sign; nothing was issued. Try again later.";
    }
}
