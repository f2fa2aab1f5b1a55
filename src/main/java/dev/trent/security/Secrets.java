package dev.trent.security;

import java.security.SecureRandom;
import java.util.Base64;

import dev.trent.pki.Hashes;

/**
 * Bearer secrets: a kind prefix and 32 random bytes in base64url. Only their SHA-256 is stored;
 * with 256 bits of entropy a fast hash is enough (nothing to brute-force), and lookup by hash is
 * constant-time with respect to the secret.
 */
public final class Secrets {

    /** Enrollment tokens; never valid on the operator API. */
    public static final String ENROLLMENT_TOKEN_PREFIX = "trent_et_";
    /** Operator API keys; never valid for enrollment. */
    public static final String API_KEY_PREFIX = "trent_ak_";

    private Secrets() {
    }

    public static String newSecret(String prefix, SecureRandom random) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    public static byte[] hash(String secret) {
        return Hashes.sha256(secret);
    }
}
