package dev.trent.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The Standard Webhooks symmetric signature: {@code v1,} and the base64 HMAC-SHA256, keyed with
 * the secret's bytes (what follows {@code whsec_}, base64-decoded), over
 * {@code <webhook-id>.<webhook-timestamp>.<body>}.
 *
 * @see <a href="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme">Standard Webhooks, Signature scheme</a>
 */
final class WebhookSignature {

    /** "Secret serialization: base64 encoded, prefixed with `whsec_` for easy identification." */
    static final String SECRET_PREFIX = "whsec_";
    /** Random, "at least 24 bytes (192 bits, 512 maximum)": Trent uses 32. */
    static final int SECRET_BYTES = 32;

    private WebhookSignature() {
    }

    static String serialize(byte[] secret) {
        return SECRET_PREFIX + Base64.getEncoder().encodeToString(secret);
    }

    /** The {@code webhook-signature} header value. Message ids and timestamps never contain a full stop. */
    static String sign(byte[] secret, String messageId, long timestampSeconds, byte[] body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((messageId + "." + timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
            return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }
}
