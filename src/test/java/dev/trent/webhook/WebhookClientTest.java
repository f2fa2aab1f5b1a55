package dev.trent.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.trent.config.TrentProperties;
import dev.trent.support.WebhookReceiver;

/**
 * The sending client connects to the addresses {@link AddressPolicy} checked in its own lookup:
 * a name that rebinds to a metadata address between the check before the attempt and the
 * connection is refused, and a name only the policy's resolver knows is reached through it.
 */
class WebhookClientTest {

    private static final TrentProperties.Webhooks SETTINGS = new TrentProperties.Webhooks(Duration.ofSeconds(1), 8, 2,
            Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofSeconds(5),
            Duration.ofMinutes(1), Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(24),
            Duration.ofDays(30), Duration.ofHours(1), false, null, Duration.ofDays(30));

    private WebhookReceiver receiver;

    @BeforeEach
    void start() throws Exception {
        receiver = WebhookReceiver.start();
    }

    @AfterEach
    void stop() {
        receiver.close();
    }

    @Test
    void executeWhenNameRebindsToMetadataAfterTheCheckThenRefusedAndNothingSent() throws Exception {
        AtomicInteger lookups = new AtomicInteger();
        AddressPolicy policy = new AddressPolicy(false, host -> new InetAddress[] {InetAddress.getByName(
                lookups.getAndIncrement() == 0 ? "127.0.0.1" : "169.254.169.254")});
        String url = "http://rebind.webhook.test:" + receiver.port() + "/hook";
        policy.checkBeforeSending(java.net.URI.create(url)); // the first answer passes
        try (CloseableHttpClient client = WebhookDispatcher.client(SETTINGS, policy)) {
            assertThatThrownBy(() -> client.execute(new HttpPost(url), r -> r.getCode()))
                    .isInstanceOf(WebhookDispatcher.RefusedAddressException.class)
                    .hasMessageContaining("169.254.169.254").hasMessageContaining("link-local");
        }
        assertThat(lookups.get()).isEqualTo(2);
        assertThat(receiver.received()).isEmpty();
    }

    @Test
    void executeWhenNameResolvesToAnAllowedAddressThenConnectsToThatAddress() throws Exception {
        // webhook.test does not resolve in DNS: reaching the receiver shows the policy's answer is used.
        AddressPolicy policy = new AddressPolicy(false, host -> {
            assertThat(host).isEqualTo("ok.webhook.test");
            return new InetAddress[] {InetAddress.getLoopbackAddress()};
        });
        try (CloseableHttpClient client = WebhookDispatcher.client(SETTINGS, policy)) {
            int status = client.execute(new HttpPost("http://ok.webhook.test:" + receiver.port() + "/hook"), r -> {
                EntityUtils.consume(r.getEntity());
                return r.getCode();
            });
            assertThat(status).isEqualTo(204);
        }
        assertThat(receiver.received()).hasSize(1);
        assertThat(receiver.received().get(0).header("host")).isEqualTo("ok.webhook.test:" + receiver.port());
    }
}
