package dev.trent.webhook;

import static dev.trent.support.ProblemAssert.assertProblem;
import static dev.trent.support.WebhookReceiver.event;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;
import dev.trent.support.WebhookReceiver;
import dev.trent.tls.TlsServer;
import tools.jackson.databind.JsonNode;

/**
 * Webhooks end to end: endpoints registered over the API, certificate events delivered to a real
 * HTTP server, signatures verified with the Standard Webhooks reference library, retries, the
 * delivery history, and every refusal. A short retry schedule keeps the retry test quick;
 * {@code certificate.expiring} looks 400 days ahead so that a fresh device certificate qualifies.
 */
@TestPropertySource(properties = {
    "trent.webhooks.retry-initial-delay=300ms",
    "trent.webhooks.retry-max-delay=1s",
    "trent.webhooks.connect-timeout=1s",
    "trent.webhooks.read-timeout=2s",
    "trent.webhooks.expiring-before=400d"
})
class WebhookIT extends IntegrationTest {

    /** The bound for revoke call returned to webhook received. */
    private static final Duration DELIVERY = Duration.ofSeconds(10);
    private static final List<String> ALL_TYPES = List.of("certificate.issued", "certificate.renewed",
            "certificate.revoked", "certificate.held", "certificate.unheld");

    @Autowired
    private TlsServer tls;

    @Autowired
    private WebhookOutbox outbox;

    @Autowired
    private org.springframework.context.ApplicationEventPublisher events;

    @Autowired
    private org.springframework.transaction.PlatformTransactionManager transactions;

    private org.springframework.transaction.support.TransactionTemplate tx;

    private WebhookReceiver receiver;

    @BeforeEach
    void startReceiver() throws Exception {
        tx = new org.springframework.transaction.support.TransactionTemplate(transactions);
        receiver = WebhookReceiver.start();
    }

    @AfterEach
    void stopReceiver() {
        receiver.close();
        // This test's endpoints go with its receiver, so that later tests' events do not queue for them.
        jdbc.update("delete from webhook_endpoint where url like ?", "http://127.0.0.1:" + receiver.port() + "/%");
    }

    private record Registered(long id, String secret) {
    }

    private Registered register(String path, List<String> types) {
        TrentClient.Response r = client().postJson("/api/v1/webhooks", ADMIN_KEY,
                Map.of("url", receiver.url(path), "eventTypes", types, "description", "test " + path));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(r.header("Cache-Control")).isEqualTo("no-store");
        return new Registered(r.json().get("id").asLong(), r.json().get("secret").asString());
    }

    private record Device(String id, KeyPair keys, X509Certificate certificate, String serial) {
    }

    private static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private Device enroll(String prefix) throws Exception {
        String id = deviceId(prefix);
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, id, "device", null), "application/pkcs10", csr.der(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        X509Certificate cert = r.certificates().get(0);
        return new Device(id, csr.keys(), cert, cert.getSerialNumber().toString(16));
    }

    private TrentClient.Response revoke(String serial, String reason) {
        return client().postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY, Map.of("reason", reason));
    }

    /** Renews over EST with the current certificate and a new key; the new certificate's serial. */
    private String renew(Device d) throws Exception {
        List<X509Certificate> chain = client().get("/api/v1/ca/chain", null, null).certificates();
        KeyPair next = p256();
        byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + d.id()), next.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(next.getPrivate())).getEncoded();
        HttpResponse<String> r = HttpClient.newBuilder()
                .sslContext(dev.trent.support.TestTls.context(chain.get(chain.size() - 1), d.keys(), d.certificate()))
                .build().send(HttpRequest.newBuilder(URI.create("https://localhost:" + tls.port()
                        + "/.well-known/est/simplereenroll")).header("Content-Type", "application/pkcs10")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(Base64.getMimeEncoder().encode(csr))).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        X509CertificateHolder h = (X509CertificateHolder) new org.bouncycastle.cms.CMSSignedData(
                Base64.getMimeDecoder().decode(r.body())).getCertificates().getMatches(null).iterator().next();
        return new JcaX509CertificateConverter().getCertificate(h).getSerialNumber().toString(16);
    }

    private JsonNode deliveries(long endpoint) {
        TrentClient.Response r = client().get("/api/v1/webhooks/" + endpoint + "/deliveries", ADMIN_KEY, null);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json();
    }

    @Test
    void revokeWhenEndpointSubscribedThenSignedEventWithinTwoSecondsAndInDeliveryHistory() throws Exception {
        Registered hook = register("/revocations", ALL_TYPES);
        Device d = enroll("wh-revoke");
        WebhookReceiver.Received issued = receiver.await(event("certificate.issued", d.serial()), DELIVERY)
                .orElseThrow(() -> new AssertionError("no certificate.issued for " + d.serial()));
        issued.verify(hook.secret());
        assertThat(issued.json().get("data").get("status").asString()).isEqualTo("ISSUED");

        TrentClient.Response revoked = revoke(d.serial(), "keyCompromise");
        assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
        // How soon: bench/WebhookBench.java ([latency] revoke call returned -> webhook received).
        WebhookReceiver.Received received = receiver.await(event("certificate.revoked", d.serial()), DELIVERY)
                .orElseThrow(() -> new AssertionError("no certificate.revoked"));

        received.verify(hook.secret());
        assertThat(received.path()).isEqualTo("/revocations");
        assertThat(received.header("content-type")).startsWith("application/json");
        assertThat(received.header("webhook-id")).matches("msg_[A-Za-z0-9_-]{22}").isNotEqualTo(issued.header("webhook-id"));
        assertThat(Long.parseLong(received.header("webhook-timestamp")))
                .isBetween(Instant.now().getEpochSecond() - 60, Instant.now().getEpochSecond() + 1);
        JsonNode body = received.json();
        assertThat(body.get("type").asString()).isEqualTo("certificate.revoked");
        assertThat(Instant.parse(body.get("timestamp").asString())).isBeforeOrEqualTo(Instant.now());
        JsonNode data = body.get("data");
        assertThat(data.get("serial").asString()).isEqualTo(d.serial());
        assertThat(data.get("deviceId").asString()).isEqualTo(d.id());
        assertThat(data.get("profile").asString()).isEqualTo("device");
        assertThat(data.get("issuerId").asString()).matches("[0-9a-f]{40}");
        assertThat(data.get("status").asString()).isEqualTo("REVOKED");
        assertThat(data.get("reason").asString()).isEqualTo("keyCompromise");
        assertThat(Instant.parse(data.get("notAfter").asString())).isEqualTo(d.certificate().getNotAfter().toInstant());
        assertThat(Instant.parse(data.get("notBefore").asString()))
                .isEqualTo(d.certificate().getNotBefore().toInstant());
        assertThat(data.has("revokedAt")).isTrue();
        assertThat(data.has("previousReason")).as("absent, not null").isFalse();

        // A tampered body or another endpoint's secret does not verify.
        Registered other = register("/other", List.of("certificate.revoked"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> received.verify(other.secret()))
                .isInstanceOf(com.standardwebhooks.exceptions.WebhookVerificationException.class);
        WebhookReceiver.Received tampered = new WebhookReceiver.Received(received.path(), received.headers(),
                received.body().replace("keyCompromise", "superseded"), received.receivedNanos());
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> tampered.verify(hook.secret()))
                .isInstanceOf(com.standardwebhooks.exceptions.WebhookVerificationException.class);

        JsonNode history = deliveries(hook.id());
        JsonNode newest = history.get("items").get(0);
        assertThat(newest.get("messageId").asString()).isEqualTo(received.header("webhook-id"));
        assertThat(newest.get("eventType").asString()).isEqualTo("certificate.revoked");
        assertThat(newest.get("status").asString()).isEqualTo("DELIVERED");
        assertThat(newest.get("attempts").asInt()).isEqualTo(1);
        assertThat(newest.get("lastStatus").asInt()).isEqualTo(204);
        assertThat(newest.get("payload")).isEqualTo(body);
        assertThat(history.get("items").get(1).get("eventType").asString()).isEqualTo("certificate.issued");
        assertThat(deliveries(other.id()).get("totalItems").asLong()).as("registered after the event").isZero();
    }

    @Test
    void renewHoldAndUnholdWhenSubscribedThenEachEventDeliveredOnlyToSubscribers() throws Exception {
        Registered all = register("/all", ALL_TYPES);
        Registered holds = register("/holds", List.of("certificate.held", "certificate.unheld"));
        Device d = enroll("wh-life");
        String renewed = renew(d);
        WebhookReceiver.Received renewal = receiver.await(event("certificate.renewed", renewed), DELIVERY)
                .orElseThrow(() -> new AssertionError("no certificate.renewed"));
        renewal.verify(all.secret());
        assertThat(renewal.json().get("data").get("previousSerial").asString()).isEqualTo(d.serial());
        assertThat(renewal.json().get("data").get("deviceId").asString()).isEqualTo(d.id());

        assertThat(revoke(renewed, "certificateHold").status()).isEqualTo(200);
        for (String path : List.of("/all", "/holds")) {
            WebhookReceiver.Received held = receiver.await(event("certificate.held", renewed).and(r -> r.path()
                    .equals(path)), DELIVERY).orElseThrow(() -> new AssertionError("no certificate.held at " + path));
            held.verify(path.equals("/all") ? all.secret() : holds.secret());
            assertThat(held.json().get("data").get("reason").asString()).isEqualTo("certificateHold");
        }
        assertThat(client().postJson("/api/v1/certificates/" + renewed + "/unhold", ADMIN_KEY, Map.of()).status())
                .isEqualTo(200);
        WebhookReceiver.Received unheld = receiver.await(event("certificate.unheld", renewed)
                .and(r -> r.path().equals("/holds")), DELIVERY).orElseThrow(() -> new AssertionError("no unheld"));
        unheld.verify(holds.secret());
        assertThat(unheld.json().get("data").get("status").asString()).isEqualTo("ISSUED");
        assertThat(unheld.json().get("data").has("revokedAt")).isFalse();
        receiver.await(event("certificate.unheld", renewed).and(r -> r.path().equals("/all")), DELIVERY)
                .orElseThrow(() -> new AssertionError("no unheld at /all"));

        assertThat(receiver.received(r -> r.path().equals("/holds") && !r.json().get("type").asString()
                .matches("certificate\\.(un)?held"))).as("/holds gets only what it subscribed to").isEmpty();
        JsonNode history = deliveries(holds.id());
        assertThat(history.get("totalItems").asLong()).isEqualTo(2);
        assertThat(history.get("items").get(0).get("eventType").asString()).as("newest first")
                .isEqualTo("certificate.unheld");
    }

    @Test
    void deliveryWhenReceiverAnswers500ThenRetriedWithTheSameWebhookId() throws Exception {
        Registered hook = register("/flaky", List.of("certificate.revoked"));
        receiver.answer("/flaky", 500);
        double failedBefore = attempts("failed");
        double deliveredBefore = attempts("delivered");
        Device d = enroll("wh-retry");
        assertThat(revoke(d.serial(), "superseded").status()).isEqualTo(200);

        List<WebhookReceiver.Received> attempts = receiver.awaitCount(event("certificate.revoked", d.serial()), 2,
                DELIVERY);
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(1).header("webhook-id")).isEqualTo(attempts.get(0).header("webhook-id"));
        assertThat(attempts.get(1).body()).isEqualTo(attempts.get(0).body());
        attempts.get(0).verify(hook.secret());
        attempts.get(1).verify(hook.secret());

        JsonNode delivery = deliveries(hook.id()).get("items").get(0);
        long end = System.nanoTime() + DELIVERY.toNanos();
        while (!delivery.get("status").asString().equals("DELIVERED") && System.nanoTime() < end) {
            Thread.sleep(20); // the receiver has answered; the row is updated just after
            delivery = deliveries(hook.id()).get("items").get(0);
        }
        assertThat(delivery.get("status").asString()).isEqualTo("DELIVERED");
        assertThat(delivery.get("attempts").asInt()).isEqualTo(2);
        assertThat(delivery.get("lastStatus").asInt()).isEqualTo(204);
        assertThat(delivery.has("deliveredAt")).isTrue();
        assertThat(attempts("failed") - failedBefore).isGreaterThanOrEqualTo(1);
        assertThat(attempts("delivered") - deliveredBefore).isGreaterThanOrEqualTo(1);
        assertThat(prometheus().text()).contains("trent_webhooks_pending ", "trent_webhooks_oldest_pending_seconds ");
    }

    private dev.trent.support.Prometheus prometheus() {
        return new dev.trent.support.Prometheus(client().get("/actuator/prometheus", ADMIN_KEY, "text/plain").text());
    }

    private double attempts(String outcome) {
        return prometheus().value("trent_webhooks_attempts_total", Map.of("outcome", outcome));
    }

    /**
     * A receiver that answers 200 with its headers at once, then trickles the body a byte every
     * 100 ms for up to a minute: {@code HttpRequest.timeout} alone never ends such an exchange.
     * Records when each connection was accepted and when the client went away.
     */
    private static final class TricklingReceiver implements AutoCloseable {
        final java.net.ServerSocket server;
        final java.util.concurrent.CopyOnWriteArrayList<long[]> connections = new java.util.concurrent.CopyOnWriteArrayList<>();
        final java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();

        TricklingReceiver() throws java.io.IOException {
            server = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
            threads.execute(() -> {
                while (!server.isClosed()) {
                    try {
                        java.net.Socket s = server.accept();
                        threads.execute(() -> trickle(s));
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
        }

        private void trickle(java.net.Socket socket) {
            long[] times = {System.nanoTime(), 0};
            connections.add(times);
            try (socket) {
                socket.getInputStream().read(new byte[16384]);
                java.io.OutputStream out = socket.getOutputStream();
                out.write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".getBytes(
                        java.nio.charset.StandardCharsets.US_ASCII));
                out.flush();
                for (int i = 0; i < 600 && !server.isClosed(); i++) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(100);
                }
            } catch (java.io.IOException | InterruptedException e) {
                // The client went away.
            } finally {
                times[1] = System.nanoTime();
            }
        }

        String url(String path) {
            return "http://127.0.0.1:" + server.getLocalPort() + path;
        }

        @Override
        public void close() throws java.io.IOException {
            server.close();
            threads.shutdownNow();
        }
    }

    @Test
    void deliveryWhenReceiverTricklesItsBodyThenFailsWithinConnectPlusReadTimeoutAndOthersAreDelivered()
            throws Exception {
        Duration deadline = Duration.ofSeconds(3); // connect-timeout 1s + read-timeout 2s
        try (TricklingReceiver slow = new TricklingReceiver()) {
            TrentClient.Response r = client().postJson("/api/v1/webhooks", ADMIN_KEY,
                    Map.of("url", slow.url("/slow"), "eventTypes", List.of("certificate.revoked")));
            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            long slowId = r.json().get("id").asLong();
            try {
                register("/fast", List.of("certificate.revoked"));
                List<String> serials = new java.util.ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    Device d = enroll("wh-trickle");
                    assertThat(revoke(d.serial(), "superseded").status()).isEqualTo(200);
                    serials.add(d.serial());
                    // The other endpoint is served while the slow one still holds its senders: the
                    // slow attempts have not all been cut off yet when /fast gets this event.
                    receiver.await(event("certificate.revoked", d.serial()), DELIVERY).orElseThrow(
                            () -> new AssertionError("no webhook at /fast while the slow endpoint trickles"));
                    assertThat(jdbc.queryForObject("select count(*) from webhook_delivery where endpoint_id = ? and "
                            + "last_error like 'timed out%'", Integer.class, slowId))
                            .as("slow attempts already cut off when /fast got event %d", serials.size())
                            .isLessThan(serials.size());
                }
                // Every slow attempt is cut off at the deadline, recorded as failed, its connection closed.
                long end = System.nanoTime() + deadline.multipliedBy(4).toNanos() + DELIVERY.toNanos();
                while (jdbc.queryForObject("select count(*) from webhook_delivery where endpoint_id = ? and "
                        + "last_error like 'timed out%'", Integer.class, slowId) < serials.size()
                        && System.nanoTime() < end) {
                    Thread.sleep(50);
                }
                assertThat(jdbc.queryForList("select last_error from webhook_delivery where endpoint_id = ?",
                        String.class, slowId)).hasSize(serials.size())
                        .allSatisfy(e -> assertThat(e).startsWith("timed out (no complete answer within 3000 ms)"));
                // The first attempts (retries open more connections meanwhile) were cut off: their
                // connections are closed by the client, none is left hanging.
                List<long[]> first = slow.connections.stream().sorted(java.util.Comparator.comparingLong(t -> t[0]))
                        .limit(serials.size()).toList();
                long closing = System.nanoTime() + DELIVERY.toNanos();
                while (first.stream().anyMatch(t -> t[1] == 0) && System.nanoTime() < closing) {
                    Thread.sleep(50);
                }
                assertThat(first).hasSize(serials.size()).allSatisfy(t -> assertThat(t[1])
                        .as("the connection of a timed-out attempt is closed by the client").isNotZero());
            } finally {
                jdbc.update("delete from webhook_endpoint where id = ?", slowId);
            }
        }
    }

    @Test
    void announceExpiringWhenCertificateWithinTheWindowThenAnnouncedOnceOnly() throws Exception {
        Registered hook = register("/expiring", List.of("certificate.expiring"));
        List<Device> devices = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            devices.add(enroll("wh-exp"));
        }
        Device d = devices.get(0);
        // Two announcers at once (as two instances would run the job), started together.
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int i = 0; i < 2; i++) {
                runs.add(two.submit(() -> {
                    start.await();
                    outbox.announceExpiring();
                    return null;
                }));
            }
            start.countDown();
            for (java.util.concurrent.Future<?> run : runs) {
                run.get(30, java.util.concurrent.TimeUnit.SECONDS); // neither fails (e.g. on a conflict)
            }
        } finally {
            two.shutdownNow();
        }
        WebhookReceiver.Received expiring = receiver.await(event("certificate.expiring", d.serial()), DELIVERY)
                .orElseThrow(() -> new AssertionError("no certificate.expiring"));
        expiring.verify(hook.secret());
        assertThat(expiring.json().get("data").get("status").asString()).isEqualTo("ISSUED");
        for (Device each : devices) {
            assertThat(jdbc.queryForObject("select count(*) from webhook_delivery where endpoint_id = ? and "
                    + "payload->'data'->>'serial' = ?", Integer.class, hook.id(), each.serial()))
                    .as("announced exactly once: " + each.serial()).isEqualTo(1);
        }
        for (Device each : devices) {
            assertThat(receiver.await(event("certificate.expiring", each.serial()), DELIVERY)).isPresent();
        }
        Thread.sleep(200); // a second announcement would have been delivered by now; none is
        for (Device each : devices) {
            assertThat(receiver.received(event("certificate.expiring", each.serial()))).hasSize(1);
        }
    }

    @Test
    void certificateEventWhenTrentsOwnCertificateThenNoWebhook() throws Exception {
        Registered hook = register("/own", ALL_TYPES);
        List<Map<String, Object>> ownRows = jdbc.queryForList("select serial, device_id, profile from certificate "
                + "where profile in ('tls-server', 'ocsp-responder')");
        List<String> own = ownRows.stream().map(r -> (String) r.get("serial")).toList();
        assertThat(own).as("the TLS listener's certificate at least").isNotEmpty();
        Device d = enroll("wh-own");
        // Published as RevocationService publishes it, inside a transaction, without revoking
        // anything (the TLS listener's certificate stays valid for the other tests).
        tx.executeWithoutResult(status -> {
            for (Map<String, Object> row : ownRows) {
                events.publishEvent(dev.trent.inventory.CertificateEvent.revoked((String) row.get("serial"),
                        (String) row.get("device_id"), (String) row.get("profile"), Instant.now(), "superseded", null));
            }
            events.publishEvent(dev.trent.inventory.CertificateEvent.revoked(d.serial(), "wh-own", "device",
                    Instant.now(), "superseded", null));
        });
        receiver.await(event("certificate.revoked", d.serial()), DELIVERY)
                .orElseThrow(() -> new AssertionError("no certificate.revoked for the device certificate"));
        assertThat(jdbc.queryForObject("select count(*) from webhook_delivery where endpoint_id = ? and "
                + "payload->'data'->>'serial' = any (?)", Integer.class, hook.id(), own.toArray(String[]::new)))
                .isZero();
        assertThat(receiver.received(r -> own.contains(r.json().get("data").get("serial").asString()))).isEmpty();
    }

    @Test
    void deleteWhenLongHistoryAndARevocationAtTheSameTimeThenBothSucceed() throws Exception {
        Registered hook = register("/deleted", List.of("certificate.revoked"));
        // A busy endpoint's history: deleting it takes a while.
        jdbc.update("insert into webhook_delivery (endpoint_id, message_id, event_type, payload, status, attempts, "
                + "created_at, delivered_at) select ?, 'msg_history' || g, 'certificate.revoked', '{}', 'DELIVERED', "
                + "1, now(), now() from generate_series(1, 200000) g", hook.id());
        Device d = enroll("wh-delete");
        java.util.concurrent.ExecutorService one = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<TrentClient.Response> deleted = one.submit(() -> client().send("DELETE",
                    "/api/v1/webhooks/" + hook.id(), Map.of("Authorization", "Bearer " + ADMIN_KEY), null));
            long end = System.nanoTime() + DELIVERY.toNanos();
            while (jdbc.queryForObject("select count(*) from pg_stat_activity where state = 'active' and query "
                    + "ilike 'delete from webhook%'", Integer.class) == 0 && !deleted.isDone()
                    && System.nanoTime() < end) {
                Thread.sleep(2);
            }
            assertThat(deleted.isDone()).as("the delete is still removing the history").isFalse();
            TrentClient.Response revoked = revoke(d.serial(), "keyCompromise");
            assertThat(revoked.status()).as("the revocation never fails because of webhooks: " + revoked)
                    .isEqualTo(200);
            assertThat(deleted.get(60, java.util.concurrent.TimeUnit.SECONDS).status()).isEqualTo(200);
        } finally {
            one.shutdownNow();
        }
        assertThat(jdbc.queryForObject("select status from certificate where serial = ?", String.class, d.serial()))
                .isEqualTo("REVOKED");
        assertThat(jdbc.queryForObject("select count(*) from webhook_delivery where endpoint_id = ?", Integer.class,
                hook.id())).isZero();
        assertThat(jdbc.queryForObject("select count(*) from webhook_endpoint where id = ?", Integer.class,
                hook.id())).isZero();
    }

    @Test
    void pruneHistoryWhenEndedLongerAgoThanTheRetentionThenRemovedAndPendingKept() throws Exception {
        Registered hook = register("/prune", List.of("certificate.revoked"));
        for (int i = 0; i < 3; i++) {
            assertThat(revoke(enroll("wh-prune").serial(), "superseded").status()).isEqualTo(200);
        }
        assertThat(receiver.awaitCount(r -> r.path().equals("/prune"), 3, DELIVERY)).hasSize(3);
        long end = System.nanoTime() + DELIVERY.toNanos();
        while (jdbc.queryForObject("select count(*) from webhook_delivery where endpoint_id = ? and status = "
                + "'DELIVERED'", Integer.class, hook.id()) < 3 && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        // Two of them ended 31 days ago (the default retention is 30 days); one is made pending again.
        jdbc.update("update webhook_delivery set created_at = created_at - interval '31 days' where id in "
                + "(select id from webhook_delivery where endpoint_id = ? order by id limit 2)", hook.id());
        jdbc.update("update webhook_delivery set status = 'PENDING', next_attempt_at = now() + interval '1 day', "
                + "created_at = created_at - interval '31 days' where id = (select max(id) from webhook_delivery "
                + "where endpoint_id = ?)", hook.id());
        outbox.pruneHistory();
        assertThat(jdbc.queryForList("select status from webhook_delivery where endpoint_id = ?", String.class,
                hook.id())).containsExactly("PENDING");
    }

    @Test
    void createWhenUrlSchemeLinkLocalMetadataOrEventTypeRefusedThen400NamingTheProblem() {
        Map<String, String> refusedUrls = Map.of(
                "ftp://127.0.0.1/hook", "http or https",
                "http://169.254.10.1/hook", "link-local",
                "http://169.254.169.254/latest/meta-data", "metadata",
                "http://[fe80::1]/hook", "link-local",
                "http://[fd00:ec2::254]/hook", "metadata",
                "http://metadata.google.internal/computeMetadata/v1", "metadata",
                "http://user:pw@127.0.0.1/hook", "user information");
        refusedUrls.forEach((url, why) -> {
            TrentClient.Response r = client().postJson("/api/v1/webhooks", ADMIN_KEY,
                    Map.of("url", url, "eventTypes", List.of("certificate.revoked")));
            assertProblem(r, 400, "webhook-url-refused");
            assertThat(r.json().get("detail").asString()).as(url).contains(why);
        });
        TrentClient.Response unknown = client().postJson("/api/v1/webhooks", ADMIN_KEY,
                Map.of("url", receiver.url("/x"), "eventTypes", List.of("certificate.revoked", "certificate.exploded")));
        assertProblem(unknown, 400, "webhook-event-type-unknown");
        assertThat(unknown.json().get("detail").asString()).contains("certificate.exploded");
        assertProblem(client().postJson("/api/v1/webhooks", ADMIN_KEY, Map.of("url", receiver.url("/x"))), 400,
                "invalid-request");
        assertProblem(client().postJson("/api/v1/webhooks", ADMIN_KEY, Map.of("eventTypes",
                List.of("certificate.revoked"))), 400, "invalid-request");

        // Loopback and private addresses are allowed: integrations run on private networks.
        for (String url : List.of("http://10.20.30.40:8080/hook", "https://192.168.1.10/hook", "http://[::1]:9/x")) {
            TrentClient.Response r = client().postJson("/api/v1/webhooks", ADMIN_KEY,
                    Map.of("url", url, "eventTypes", List.of("certificate.expiring")));
            assertThat(r.status()).as(url + ": " + r).isEqualTo(201);
            assertThat(client().send("DELETE", "/api/v1/webhooks/" + r.json().get("id").asLong(),
                    Map.of("Authorization", "Bearer " + ADMIN_KEY), null).status()).isEqualTo(200);
        }
    }

    @Test
    void webhooksWhenRoleBelowAdminThen403() {
        TrentClient.Response key = client().postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", deviceId("wh-operator"), "role", "OPERATOR"));
        String operator = key.json().get("key").asString();
        assertProblem(client().postJson("/api/v1/webhooks", operator,
                Map.of("url", receiver.url("/x"), "eventTypes", List.of("certificate.revoked"))), 403, "forbidden");
        assertProblem(client().get("/api/v1/webhooks", operator, null), 403, "forbidden");
        assertProblem(client().get("/api/v1/webhooks/1/deliveries", operator, null), 403, "forbidden");
        assertProblem(client().send("DELETE", "/api/v1/webhooks/1", Map.of("Authorization", "Bearer " + operator),
                null), 403, "forbidden");
        assertProblem(client().get("/api/v1/webhooks", null, null), 401, "unauthorized");
    }

    @Test
    void getWhenListedOrFetchedThenTheSecretNeverAppearsAndDeleteIsAudited() {
        Registered hook = register("/secret", List.of("certificate.revoked"));
        assertThat(hook.secret()).matches("whsec_[A-Za-z0-9+/]{43}=");
        assertThat(Base64.getDecoder().decode(hook.secret().substring("whsec_".length()))).hasSize(32);
        TrentClient.Response one = client().get("/api/v1/webhooks/" + hook.id(), ADMIN_KEY, null);
        TrentClient.Response all = client().get("/api/v1/webhooks", ADMIN_KEY, null);
        for (TrentClient.Response r : List.of(one, all)) {
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.text()).doesNotContain(hook.secret()).doesNotContain(hook.secret().substring(6))
                    .doesNotContain("\"secret\"");
        }
        assertThat(one.json().get("url").asString()).isEqualTo(receiver.url("/secret"));
        assertThat(one.json().get("eventTypes").get(0).asString()).isEqualTo("certificate.revoked");
        assertThat(one.json().get("createdBy").asString()).isNotBlank();
        byte[] stored = jdbc.queryForObject("select secret_sealed from webhook_endpoint where id = ?", byte[].class,
                hook.id());
        assertThat(new String(stored, java.nio.charset.StandardCharsets.ISO_8859_1))
                .doesNotContain(hook.secret().substring(6));
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'webhook.created' and "
                + "subject = ? and details::text not like ?", Integer.class, "webhook:" + hook.id(),
                "%" + hook.secret().substring(6) + "%")).isEqualTo(1);

        Map<String, String> auth = new HashMap<>(Map.of("Authorization", "Bearer " + ADMIN_KEY));
        assertThat(client().send("DELETE", "/api/v1/webhooks/" + hook.id(), auth, null).status()).isEqualTo(200);
        assertProblem(client().get("/api/v1/webhooks/" + hook.id(), ADMIN_KEY, null), 404, "not-found");
        assertProblem(client().send("DELETE", "/api/v1/webhooks/" + hook.id(), auth, null), 404, "not-found");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'webhook.deleted' and "
                + "subject = ?", Integer.class, "webhook:" + hook.id())).isEqualTo(1);
    }
}
