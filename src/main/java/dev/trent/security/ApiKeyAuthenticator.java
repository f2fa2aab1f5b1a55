package dev.trent.security;

import java.util.Optional;

/**
 * Resolves a presented API key to the operator it belongs to (implemented by the operator
 * package, which owns API keys), so that the filter chains need not know operator accounts.
 */
public interface ApiKeyAuthenticator {

    /** The operator of an active key, or empty for an unknown or revoked one. */
    Optional<Operator> authenticate(String presentedKey);

    /**
     * An authenticated operator: the principal the controllers receive, and its role name
     * (granted as {@code ROLE_<role>}).
     */
    record Operator(Object principal, String role) {
    }
}
