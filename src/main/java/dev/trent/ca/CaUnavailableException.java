package dev.trent.ca;

/**
 * The CA key cannot be used: a keystore that does not open, a PKCS#11 module, token, PIN or key
 * that is missing or wrong. At start it stops Trent with one line naming the cause (see
 * {@link CaUnavailableFailureAnalyzer}), unless {@code trent.ca.start-degraded} is set.
 */
public class CaUnavailableException extends IllegalStateException {

    public CaUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
