package dev.trent.broker;

/** The broker could not be asked (not connected, timed out) or answered a command with an error. */
class DynsecException extends Exception {

    private static final long serialVersionUID = 1L;

    DynsecException(String message) {
        super(message);
    }

    DynsecException(String message, Throwable cause) {
        super(message, cause);
    }
}
