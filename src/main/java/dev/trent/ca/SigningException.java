package dev.trent.ca;

import dev.trent.domain.UnavailableException;

/**
 * The CA key could not produce a signature (the key store or the HSM failed). The client learns
 * only that the signer is unavailable and nothing was issued; the message and cause are logged.
 */
public class SigningException extends UnavailableException {

    public SigningException(String message, Throwable cause) {
        super("signer-unavailable", "CA signer unavailable",
                "The CA could not sign; nothing was issued. Try again later.", message, cause);
    }
}
