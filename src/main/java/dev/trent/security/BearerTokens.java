package dev.trent.security;

import java.util.Locale;
import java.util.Optional;

/** Reads the credential of an {@code Authorization: Bearer <credential>} header (RFC 6750 2.1). */
public final class BearerTokens {

    private BearerTokens() {
    }

    /**
     * @return the credential; empty when the header is missing, blank, another scheme, or has no
     *         credential
     */
    public static Optional<String> credential(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            return Optional.empty();
        }
        String[] parts = authorization.strip().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].toLowerCase(Locale.ROOT).equals("bearer")) {
            return Optional.empty();
        }
        return Optional.of(parts[1].strip());
    }
}
