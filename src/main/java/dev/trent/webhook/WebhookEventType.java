package dev.trent.webhook;

import java.util.Arrays;
import java.util.Optional;

import dev.trent.inventory.CertificateEvent;

/**
 * The event types an endpoint can subscribe to, named as Standard Webhooks recommends: full-stop
 * delimited identifiers of {@code [a-zA-Z0-9_]}.
 *
 * @see <a href="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#event-types">Standard Webhooks, Event types</a>
 */
enum WebhookEventType {
    ISSUED("certificate.issued"),
    RENEWED("certificate.renewed"),
    REVOKED("certificate.revoked"),
    HELD("certificate.held"),
    UNHELD("certificate.unheld"),
    /** A valid device certificate entered {@code trent.webhooks.expiring-before} of its notAfter; once per certificate. */
    EXPIRING("certificate.expiring");

    private final String wireName;

    WebhookEventType(String wireName) {
        this.wireName = wireName;
    }

    String wireName() {
        return wireName;
    }

    static Optional<WebhookEventType> of(String wireName) {
        return Arrays.stream(values()).filter(t -> t.wireName.equals(wireName)).findFirst();
    }

    static WebhookEventType of(CertificateEvent.Type type) {
        return switch (type) {
            case ISSUED -> ISSUED;
            case RENEWED -> RENEWED;
            case REVOKED -> REVOKED;
            case HELD -> HELD;
            case UNHELD -> UNHELD;
        };
    }

    static String allNames() {
        return String.join(", ", Arrays.stream(values()).map(WebhookEventType::wireName).toList());
    }
}
