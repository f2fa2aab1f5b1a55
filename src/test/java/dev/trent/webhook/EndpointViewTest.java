package dev.trent.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

class EndpointViewTest {

    @Test
    void toStringWhenSecretSetThenRedacted() {
        String secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        WebhookService.EndpointView view = new WebhookService.EndpointView(7, "https://example.test/hook",
                List.of("certificate.revoked"), "d", Instant.EPOCH, "admin", secret);
        assertThat(view.toString()).doesNotContain(secret).doesNotContain(secret.substring(6))
                .contains("id=7", "https://example.test/hook", "secret=<redacted>");
        assertThat(new WebhookService.EndpointView(7, "u", List.of(), null, null, "a", null).toString())
                .contains("secret=null");
    }
}
