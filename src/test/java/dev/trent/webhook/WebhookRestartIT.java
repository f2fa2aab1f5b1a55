package dev.trent.webhook;

import static dev.trent.support.WebhookReceiver.event;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.zaxxer.hikari.HikariDataSource;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import dev.trent.support.WebhookReceiver;

/**
 * The outbox survives what an operator lives through: a receiver that is down while Trent
 * itself restarts, and two Trent instances on one database that must not both send a webhook.
 */
class WebhookRestartIT {

    @TempDir
    Path dirA;

    @TempDir
    Path dirB;

    @BeforeEach
    void embeddedOnly() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("SPRING_DATASOURCE_URL") == null,
                "SPRING_DATASOURCE_URL is set: restart tests need the embedded PostgreSQL");
    }

    private static Map<String, String> settings(Path dataDir) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("trent.data-dir", dataDir.toString());
        s.put("trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY);
        // A short retry schedule: the restarted receiver is found within seconds.
        s.put("trent.webhooks.retry-initial-delay", "500ms");
        s.put("trent.webhooks.retry-max-delay", "2s");
        return s;
    }

    private static long register(TrentClient c, WebhookReceiver receiver, String path) {
        TrentClient.Response r = c.postJson("/api/v1/webhooks", IntegrationTest.ADMIN_KEY,
                Map.of("url", receiver.url(path), "eventTypes", List.of("certificate.revoked")));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("id").asLong();
    }

    private static String enroll(TrentClient c, String device) {
        TrentClient.Response r = c.enroll(c.token(IntegrationTest.ADMIN_KEY, device, "device", null),
                "application/pkcs10", TestCsrs.ecP256("x").der(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.certificates().get(0).getSerialNumber().toString(16);
    }

    private static void revoke(TrentClient c, String serial) {
        TrentClient.Response r = c.postJson("/api/v1/certificates/" + serial + "/revoke", IntegrationTest.ADMIN_KEY,
                Map.of("reason", "keyCompromise"));
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }

    @Test
    void revokeWhenReceiverDownAndTrentRestartedThenEventReceivedWithinAMinuteOfReceiverBack() throws Exception {
        WebhookReceiver receiver = WebhookReceiver.start();
        String serial;
        long endpoint;
        try (TrentApp trent = TrentApp.start(settings(dirA))) {
            TrentClient c = trent.client();
            endpoint = register(c, receiver, "/hook");
            serial = enroll(c, "wh-restart-1");
            receiver.close();
            revoke(c, serial);
            // The receiver is down: the first attempt fails and the delivery waits for a retry.
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < end && trent.jdbc().queryForObject("select count(*) from webhook_delivery "
                    + "where endpoint_id = ? and attempts > 0 and last_error is not null", Integer.class, endpoint) == 0) {
                Thread.sleep(50);
            }
            assertThat(trent.jdbc().queryForObject("select last_error from webhook_delivery where endpoint_id = ?",
                    String.class, endpoint)).isNotBlank();
        }
        try (TrentApp trent = TrentApp.start(settings(dirA))) {
            WebhookReceiver back = receiver.restart();
            try {
                WebhookReceiver.Received received = back.await(event("certificate.revoked", serial),
                        Duration.ofMinutes(1)).orElseThrow(() -> new AssertionError(
                                "the revocation made while the receiver was down did not arrive within a minute"));
                String messageId = received.header("webhook-id");
                assertThat(messageId).startsWith("msg_");
                JsonHistory history = new JsonHistory(trent.client(), endpoint);
                assertThat(history.status()).isIn("PENDING", "DELIVERED"); // the row is updated just after the answer
                assertThat(trent.jdbc().queryForObject("select message_id from webhook_delivery where endpoint_id = ?",
                        String.class, endpoint)).isEqualTo(messageId);
            } finally {
                back.close();
            }
        }
    }

    /** The newest delivery of an endpoint, read over the API. */
    private record JsonHistory(TrentClient client, long endpoint) {
        String status() {
            TrentClient.Response r = client.get("/api/v1/webhooks/" + endpoint + "/deliveries", IntegrationTest.ADMIN_KEY,
                    null);
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            return r.json().get("items").get(0).get("status").asString();
        }
    }

    @Test
    void twoInstancesWhenRevokingOnBothThenEachWebhookIsSentOnce() throws Exception {
        try (WebhookReceiver receiver = WebhookReceiver.start(); TrentApp a = TrentApp.start(settings(dirA))) {
            HikariDataSource ds = (HikariDataSource) a.context().getBean(DataSource.class);
            Map<String, String> sb = settings(dirB);
            sb.put("spring.datasource.url", ds.getJdbcUrl());
            sb.put("spring.datasource.username", ds.getUsername());
            sb.put("spring.datasource.password", ds.getPassword() == null ? "" : ds.getPassword());
            sb.put("trent.ca.keystore.path", dirA.resolve("ca/intermediate.p12").toString());
            sb.put("trent.ca.keystore.password-file", dirA.resolve("ca/intermediate.p12.pass").toString());
            // The instances share the webhook key, as they share the CA key: either can sign.
            sb.put("trent.webhooks.secret-key-file", dirA.resolve("webhook-secret.key").toString());
            try (TrentApp b = TrentApp.start(sb)) {
                register(a.client(), receiver, "/both");
                List<String> serials = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    TrentClient c = i % 2 == 0 ? a.client() : b.client();
                    String serial = enroll(c, "wh-two-" + i);
                    serials.add(serial);
                    revoke(c, serial);
                }
                List<WebhookReceiver.Received> got = receiver.awaitCount(r -> r.json().get("type").asString()
                        .equals("certificate.revoked"), serials.size(), Duration.ofSeconds(30));
                assertThat(got).hasSize(serials.size());
                Thread.sleep(1000); // room for a duplicate, were one to be sent
                List<WebhookReceiver.Received> all = receiver.received();
                Set<String> ids = all.stream().map(r -> r.header("webhook-id")).collect(Collectors.toSet());
                assertThat(all).as("one request per event").hasSize(serials.size());
                assertThat(ids).hasSize(serials.size());
                assertThat(all.stream().map(r -> r.json().get("data").get("serial").asString()).toList())
                        .containsExactlyInAnyOrderElementsOf(serials);
            }
        }
    }
}
