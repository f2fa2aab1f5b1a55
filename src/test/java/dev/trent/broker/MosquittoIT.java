package dev.trent.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Mosquitto;
import dev.trent.support.TestCsrs;
import dev.trent.support.TestTls;
import dev.trent.support.TrentClient;
import dev.trent.tls.TlsServer;
import tools.jackson.databind.JsonNode;

/**
 * Trent keeps a real Mosquitto 2.0 broker's dynamic-security clients in step with its inventory.
 * The broker runs with a certificate Trent issued (profile {@code server}), a mutual-TLS listener
 * ({@code require_certificate}, {@code use_identity_as_username}) and a plain listener on loopback
 * for Trent's admin connection; devices are Paho clients with certificates Trent issued.
 *
 * <p>Trent starts first, while the broker does not exist yet. Times are the issue's targets,
 * checked as "poll until, with a deadline".
 */
class MosquittoIT extends IntegrationTest {

    private static final String ADMIN = "trent-admin";
    private static final String ADMIN_PASSWORD = "admin-" + UUID.randomUUID();
    private static final Path DIR = Path.of("target", "mosquitto-it", UUID.randomUUID().toString()).toAbsolutePath();
    private static final int TLS_PORT = Mosquitto.freePort();
    private static final int CONTROL_PORT = Mosquitto.freePort();

    private static Mosquitto broker;
    private static Integer readinessBeforeBroker;
    private static final List<Device> devices = new CopyOnWriteArrayList<>();

    @Autowired
    private TlsServer tls;

    @BeforeAll
    static void mosquittoAvailable() {
        Mosquitto.assumeAvailable();
    }

    @DynamicPropertySource
    static void mosquittoSettings(DynamicPropertyRegistry registry) throws Exception {
        Files.createDirectories(DIR);
        Path pw = DIR.resolve("trent-admin.password");
        Files.writeString(pw, ADMIN_PASSWORD + "\n");
        registry.add("trent.mosquitto.url", () -> "tcp://127.0.0.1:" + CONTROL_PORT);
        registry.add("trent.mosquitto.username", () -> ADMIN);
        registry.add("trent.mosquitto.password-file", pw::toString);
        registry.add("trent.mosquitto.device-role", () -> "device");
        // Long enough that the expiry test below shows the expiry check (every 5 s), not a reconciliation.
        registry.add("trent.mosquitto.reconcile-interval", () -> "40s");
    }

    @BeforeEach
    void brokerRunning() throws Exception {
        synchronized (MosquittoIT.class) {
            if (broker == null) {
                readinessBeforeBroker = client().get("/actuator/health/readiness", null, null).status();
                broker = prepareBroker();
                broker.start();
            }
        }
    }

    @AfterAll
    static void stopAll() {
        devices.forEach(Device::close);
        devices.clear();
        if (broker != null) {
            broker.stop();
            broker = null;
        }
    }

    // ---- the broker, set up as README's recipe says ----

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    private X509Certificate root() {
        List<X509Certificate> c = chain();
        return c.get(c.size() - 1);
    }

    /** Issues the broker's certificate through Trent, writes the CA file, dynsec JSON and config. */
    private Mosquitto prepareBroker() throws Exception {
        if (!Files.exists(DIR.resolve("server.pem"))) {
            TestCsrs.Csr csr = TestCsrs.ecP256("broker");
            TrentClient c = client();
            TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, deviceId("broker"), "server", List.of("localhost")),
                    "application/pkcs10", csr.der(), "application/pem-certificate-chain");
            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            Files.write(DIR.resolve("server.pem"), r.body());
            Files.writeString(DIR.resolve("server.key"), Pem.encode("PRIVATE KEY", csr.keys().getPrivate().getEncoded()));
            Files.writeString(DIR.resolve("ca.pem"), Pem.certificates(chain()));
            Mosquitto.dynsecInit(DIR.resolve("dynsec.json"), ADMIN, ADMIN_PASSWORD);
            // The device role, whose ACLs the operator owns: here every device may publish and subscribe under devices/.
            JsonNode dynsec = TrentClient.JSON.readTree(Files.readString(DIR.resolve("dynsec.json")));
            Map<String, Object> doc = TrentClient.JSON.convertValue(dynsec, Map.class);
            @SuppressWarnings("unchecked")
            List<Object> roles = (List<Object>) doc.get("roles");
            roles.add(Map.of("rolename", "device", "acls", List.of(
                    Map.of("acltype", "publishClientSend", "topic", "devices/#", "allow", true),
                    Map.of("acltype", "subscribePattern", "topic", "devices/#", "allow", true))));
            Files.write(DIR.resolve("dynsec.json"), TrentClient.JSON.writeValueAsBytes(doc));
            // Trent's CRL as the broker's crlfile (what trent.crl.publish-dir provides in production).
            String issuer = jdbc.queryForObject("select issuer_id from certificate where serial = ?", String.class,
                    r.certificates().get(0).getSerialNumber().toString(16));
            await("a CRL exists", Duration.ofSeconds(10), () -> client().get("/crl/" + issuer + ".crl", null, null).status() == 200);
            Files.write(DIR.resolve("crls.pem"), client().get("/crl/" + issuer + ".crl", null, "application/x-pem-file").body());
        }
        String config = "per_listener_settings false\n"
                + "allow_anonymous false\n"
                + "persistence false\n"
                + "log_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\n"
                + "log_timestamp_format %H:%M:%S\n"
                + "plugin " + Mosquitto.plugin() + "\n"
                + "plugin_opt_config_file " + DIR.resolve("dynsec.json") + "\n"
                + "listener " + TLS_PORT + " 127.0.0.1\n"
                + "cafile " + DIR.resolve("ca.pem") + "\n"
                + "certfile " + DIR.resolve("server.pem") + "\n"
                + "keyfile " + DIR.resolve("server.key") + "\n"
                + "require_certificate true\n"
                + "use_identity_as_username true\n"
                + "crlfile " + DIR.resolve("crls.pem") + "\n"
                + "listener " + CONTROL_PORT + " 127.0.0.1\n";
        return Mosquitto.configure(DIR, config, CONTROL_PORT);
    }

    // ---- devices ----

    /** A device with a Trent certificate and a Paho connection that reconnects by itself. */
    final class Device implements AutoCloseable {
        final String id;
        final KeyPair keys;
        final X509Certificate certificate;
        final String serial;
        final AtomicInteger losses = new AtomicInteger();
        final AtomicInteger connects = new AtomicInteger();
        final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        volatile long lostAtNanos;
        MqttClient mqtt;

        Device(String id, KeyPair keys, X509Certificate certificate) {
            this.id = id;
            this.keys = keys;
            this.certificate = certificate;
            this.serial = certificate.getSerialNumber().toString(16);
            devices.add(this);
        }

        Device connect(boolean cleanSession) throws MqttException {
            mqtt = new MqttClient("ssl://localhost:" + TLS_PORT, id + "-" + serial.substring(0, 6), new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setSocketFactory(TestTls.context(root(), keys, certificate).getSocketFactory());
            o.setAutomaticReconnect(true);
            o.setMaxReconnectDelay(1000);
            o.setCleanSession(cleanSession);
            o.setConnectionTimeout(5);
            mqtt.setCallback(new MqttCallbackExtended() {
                @Override
                public void connectComplete(boolean reconnect, String serverURI) {
                    connects.incrementAndGet();
                }

                @Override
                public void connectionLost(Throwable cause) {
                    lostAtNanos = System.nanoTime();
                    losses.incrementAndGet();
                }

                @Override
                public void messageArrived(String topic, MqttMessage message) {
                    received.add(new String(message.getPayload(), StandardCharsets.UTF_8));
                }

                @Override
                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
            mqtt.connect(o);
            return this;
        }

        /** Dropped since {@code since}: Paho reported the loss, is reconnecting, or has reconnected. */
        boolean dropped(long since, int connectsThen) {
            return lostAtNanos > since || !mqtt.isConnected() || connects.get() > connectsThen;
        }

        /** Granted QoS of a subscription, 128 when the broker refused it. */
        int subscribe(String topic) throws MqttException {
            try {
                IMqttToken t = mqtt.subscribeWithResponse(topic, 1);
                return t.getGrantedQos()[0];
            } catch (MqttException e) {
                if (e.getReasonCode() == MqttException.REASON_CODE_SUBSCRIBE_FAILED) {
                    return 128;
                }
                throw e;
            }
        }

        /** Subscribes (until granted, or the deadline) its own topic: access proven. */
        boolean hasAccess() {
            try {
                return mqtt.isConnected() && subscribe("devices/" + id + "/cmd") == 1;
            } catch (MqttException e) {
                return false;
            }
        }

        void publish(String topic, String payload) throws MqttException {
            mqtt.publish(topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
        }

        @Override
        public void close() {
            try {
                if (mqtt != null) {
                    if (mqtt.isConnected()) {
                        mqtt.disconnectForcibly(100, 500);
                    }
                    mqtt.close(true);
                }
            } catch (MqttException e) {
                // closing after the test
            }
        }
    }

    private Device enroll(String prefix) throws Exception {
        String id = deviceId(prefix);
        TestCsrs.Csr csr = TestCsrs.ecP256(id);
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, id, "device", null), "application/pkcs10", csr.der(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return new Device(id, csr.keys(), r.certificates().get(0));
    }

    /** Renewal over HTTPS with the current certificate, with a new key. */
    private Device renew(Device d) throws Exception {
        TestCsrs.Csr csr = TestCsrs.ecP256(d.id);
        HttpResponse<byte[]> r = HttpClient.newBuilder().sslContext(TestTls.context(root(), d.keys, d.certificate)).build()
                .send(HttpRequest.newBuilder(URI.create("https://localhost:" + tls.port() + "/api/v1/renew"))
                        .header("Content-Type", "application/pkcs10").POST(HttpRequest.BodyPublishers.ofByteArray(csr.der()))
                        .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(201);
        X509Certificate renewed = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(r.body())).iterator().next();
        return new Device(d.id, csr.keys(), renewed);
    }

    private void revoke(Device d, String reason) {
        TrentClient.Response r = client().postJson("/api/v1/certificates/" + d.serial + "/revoke", ADMIN_KEY,
                Map.of("reason", reason));
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }

    private void unhold(Device d) {
        TrentClient.Response r = client().postJson("/api/v1/certificates/" + d.serial + "/unhold", ADMIN_KEY, Map.of());
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }

    private static void await(String what, Duration deadline, BooleanSupplier condition) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError(what + " did not happen within " + deadline + "\nbroker log:\n" + tail(broker.log()));
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static String tail(String log) {
        return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
    }

    /**
     * A device with broker access after its enrollment, connected and subscribed to devices/#
     * (how soon: bench/MosquittoRevoke.java, enroll_to_access).
     */
    private Device connected(String prefix) throws Exception {
        Device d = enroll(prefix);
        d.connect(true);
        await(d.id + " has broker access", Duration.ofSeconds(10), d::hasAccess);
        assertThat(d.subscribe("devices/#")).isEqualTo(1);
        return d;
    }

    /**
     * The device's publish is dropped: {@code observer} (subscribed to devices/#) gets a marker
     * it sends itself after the device's publish was acknowledged, but not the device's message.
     */
    private static void assertPublishRefused(Device device, Device observer) throws Exception {
        String denied = "from-" + device.id + "-" + UUID.randomUUID();
        device.publish("devices/" + device.id + "/data", denied);
        String marker = "marker-" + UUID.randomUUID();
        observer.publish("devices/" + observer.id + "/data", marker);
        await("the observer's marker arrives (observer connected " + observer.mqtt.isConnected() + ", connects "
                + observer.connects.get() + ", losses " + observer.losses.get() + ")", Duration.ofSeconds(5),
                () -> observer.received.contains(marker));
        assertThat(observer.received).as("the refused device's message reached nobody").doesNotContain(denied);
    }

    private static void assertPublishDelivered(Device device, Device observer) throws Exception {
        String message = "from-" + device.id + "-" + UUID.randomUUID();
        device.publish("devices/" + device.id + "/data", message);
        await("the message of " + device.id + " arrives", Duration.ofSeconds(5), () -> observer.received.contains(message));
    }

    /**
     * The device was dropped within 2 s of the call returning (often before: the relay is woken
     * at the commit, before the answer is written), reconnected by itself, and has no access on
     * the new session.
     */
    private static void assertDroppedAndRefused(Device d, long callMade, Device observer) throws Exception {
        int connects = d.connects.get();
        await(d.id + " disconnected", Duration.ofSeconds(2), () -> d.dropped(callMade, connects));
        await(d.id + " reconnected (TLS still accepts it)", Duration.ofSeconds(10), d.mqtt::isConnected);
        assertThat(d.subscribe("devices/" + d.id + "/cmd")).as("subscription refused").isEqualTo(128);
        assertThat(d.subscribe("devices/#")).as("subscription refused").isEqualTo(128);
        assertPublishRefused(d, observer);
    }

    // ---- the tests ----

    @Test
    void revokeWhenDevicesConnectedThenOnlyTheRevokedOneIsDroppedAndRefused() throws Exception {
        Device observer = connected("mq-observer");
        Device revoked = connected("mq-revoked");
        Device other = connected("mq-other");
        Device persistent = enroll("mq-persistent");
        persistent.connect(false);
        await(persistent.id + " has access", Duration.ofSeconds(10), persistent::hasAccess);
        assertPublishDelivered(revoked, observer);
        int observerLosses = observer.losses.get();
        int otherLosses = other.losses.get();

        long before = System.nanoTime();
        revoke(revoked, "privilegeWithdrawn");
        assertDroppedAndRefused(revoked, before, observer);

        long before2 = System.nanoTime();
        revoke(persistent, "cessationOfOperation");
        int connects2 = persistent.connects.get();
        await(persistent.id + " disconnected", Duration.ofSeconds(2), () -> persistent.dropped(before2, connects2));
        await(persistent.id + " reconnected to its persistent session", Duration.ofSeconds(10), persistent.mqtt::isConnected);
        String toPersistent = "cmd-" + UUID.randomUUID();
        observer.publish("devices/" + persistent.id + "/cmd", toPersistent);
        await("the observer sees the command", Duration.ofSeconds(5), () -> observer.received.contains(toPersistent));
        Thread.sleep(500);
        assertThat(persistent.received).as("the revoked device's persistent subscription delivers nothing")
                .doesNotContain(toPersistent);

        assertThat(observer.losses.get()).as("the others keep their sessions").isEqualTo(observerLosses);
        assertThat(other.losses.get()).isEqualTo(otherLosses);
        assertThat(other.mqtt.isConnected()).isTrue();
        assertPublishDelivered(other, observer);
        assertPublishRefused(revoked, observer);
    }

    @Test
    void holdWhenReleasedThenAccessComesBack() throws Exception {
        Device observer = connected("mq-hold-observer");
        Device held = connected("mq-held");

        long before = System.nanoTime();
        revoke(held, "certificateHold");
        assertDroppedAndRefused(held, before, observer);

        unhold(held);
        await(held.id + " has access again", Duration.ofSeconds(10), held::hasAccess);
        assertPublishDelivered(held, observer);
    }

    @Test
    void renewWhenOldCertificateRevokedThenDeviceKeepsAccessAndTheCrlRefusesTheOldOneAfterSighup() throws Exception {
        Device observer = connected("mq-renew-observer");
        Device old = connected("mq-renewed");
        Device current = renew(old).connect(true);
        await(current.id + " has access with its new certificate", Duration.ofSeconds(10), current::hasAccess);
        int losses = current.losses.get();

        revoke(old, "superseded");
        // The device keeps access: nothing changes on the broker, so the new certificate's session stays.
        Thread.sleep(1500);
        assertThat(current.losses.get()).as("the renewed certificate's session stays").isEqualTo(losses);
        assertThat(current.hasAccess()).isTrue();
        assertPublishDelivered(current, observer);
        // What Mosquitto cannot do: it knows the username (device id), not the certificate. The old
        // certificate's open session stays, with the device's access, until the broker re-reads the CRL.
        assertThat(old.mqtt.isConnected()).as("the revoked old certificate's session is still open").isTrue();
        assertPublishDelivered(old, observer);

        // Trent's new CRL written to the broker's crlfile and a SIGHUP: Mosquitto 2.0.11 re-reads it
        // for new handshakes. The old certificate's open session stays; a new connection with it
        // is refused at TLS; the new certificate keeps its session and its access.
        String crlPath = "/crl/" + jdbc.queryForObject("select issuer_id from certificate where serial = ?", String.class,
                old.serial) + ".crl";
        await("the CRL lists the old certificate", Duration.ofSeconds(10), () -> {
            try {
                java.security.cert.X509CRL list = (java.security.cert.X509CRL) java.security.cert.CertificateFactory
                        .getInstance("X.509").generateCRL(new java.io.ByteArrayInputStream(client().get(crlPath, null, null).body()));
                return list.getRevokedCertificate(old.certificate.getSerialNumber()) != null;
            } catch (java.security.GeneralSecurityException e) {
                return false;
            }
        });
        TrentClient.Response crl = client().get(crlPath, null, "application/x-pem-file");
        assertThat(crl.status()).isEqualTo(200);
        Path next = DIR.resolve("crls.pem.next");
        Files.write(next, crl.body());
        Files.move(next, DIR.resolve("crls.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        synchronized (MosquittoIT.class) {
            broker.hup();
        }
        Device oldAgain = new Device(old.id, old.keys, old.certificate);
        await("a new connection with the revoked old certificate is refused at TLS", Duration.ofSeconds(10), () -> {
            try {
                oldAgain.connect(true);
                oldAgain.close();
                return false;
            } catch (MqttException e) {
                return true;
            }
        });
        assertThat(old.mqtt.isConnected()).as("the old certificate's open session survives the SIGHUP").isTrue();
        assertThat(current.losses.get()).as("the renewed certificate's session stays").isEqualTo(losses);
        assertPublishDelivered(current, observer);
    }

    @Test
    void revokeWhenBrokerDownThenBrokerMatchesWithin30SecondsOfComingBack() throws Exception {
        assertThat(readinessBeforeBroker).as("Trent was ready before the broker existed").isEqualTo(200);
        Device observer = connected("mq-down-observer");
        Device revoked = connected("mq-down-revoked");
        synchronized (MosquittoIT.class) {
            broker.stop();
        }
        revoke(revoked, "privilegeWithdrawn");
        Device late = enroll("mq-down-new");
        assertThat(client().get("/actuator/health/readiness", null, null).status())
                .as("a broker outage does not take the CA out of service").isEqualTo(200);
        await("health shows the broker unreachable", Duration.ofSeconds(10),
                () -> "UNKNOWN".equals(mosquittoHealth().path("status").asString("")));
        assertThat(mosquittoHealth().path("details").path("backlog").asLong()).as("the changes wait").isPositive();
        TrentClient.Response health = client().get("/actuator/health", ADMIN_KEY, null);
        assertThat(health.status()).as(health.toString()).isEqualTo(200);
        Thread.sleep(1000);
        synchronized (MosquittoIT.class) {
            broker.start();
        }
        late.connect(true);
        await(late.id + " (issued while the broker was down) has access", Duration.ofSeconds(30), late::hasAccess);
        await(revoked.id + " (revoked while the broker was down) is refused", Duration.ofSeconds(30), () -> {
            try {
                return revoked.mqtt.isConnected() && revoked.subscribe("devices/" + revoked.id + "/cmd") == 128;
            } catch (MqttException e) {
                return false;
            }
        });
        await("health shows the broker connected", Duration.ofSeconds(10),
                () -> "UP".equals(mosquittoHealth().path("status").asString("")));
        await("observer reconnected", Duration.ofSeconds(10), observer::hasAccess);
        assertThat(observer.subscribe("devices/#")).as("the restarted broker forgot clean sessions").isEqualTo(1);
        assertPublishRefused(revoked, observer);
    }

    @Test
    void certificateExpiresThenDeviceLosesAccessWithinSecondsWithoutReconciliation() throws Exception {
        Device observer = connected("mq-exp-observer");
        Device expiring = connected("mq-expiring");
        long before = System.nanoTime();
        int connects = expiring.connects.get();
        // The inventory's notAfter two seconds from now: an expiry has no event. (The certificate
        // the device holds stays valid, so TLS still accepts it and only dynsec decides.)
        jdbc.update("update certificate set not_after = ? where serial = ?",
                java.sql.Timestamp.from(java.time.Instant.now().plusSeconds(2)), expiring.serial);
        // The expiry check runs every 5 s; the reconciliation only every 40 s here.
        await(expiring.id + " dropped after its certificate expired", Duration.ofSeconds(15),
                () -> expiring.dropped(before, connects));
        await(expiring.id + " reconnected (TLS still accepts it)", Duration.ofSeconds(10), expiring.mqtt::isConnected);
        assertThat(expiring.subscribe("devices/" + expiring.id + "/cmd")).as("subscription refused").isEqualTo(128);
        assertPublishRefused(expiring, observer);
        assertThat(observer.hasAccess()).isTrue();
    }

    @Test
    void reconcileWhenClientsChangedByHandThenOnlyTrentsClientsAreFixed() throws Exception {
        Device observer = connected("mq-rec-observer");
        Device deleted = connected("mq-rec-deleted");
        Device stripped = connected("mq-rec-stripped");
        Device revoked = connected("mq-rec-revoked");
        long before = System.nanoTime();
        int connects = revoked.connects.get();
        revoke(revoked, "privilegeWithdrawn");
        await(revoked.id + " disconnected", Duration.ofSeconds(2), () -> revoked.dropped(before, connects));

        try (Admin admin = new Admin()) {
            // By hand: the revoked device given the device role again, a valid device's client
            // deleted, and an operator's own client (not Trent's) for a device id Trent never issued.
            assertThat(admin.command(Map.of("command", "createClient", "username", revoked.id, "roles",
                    List.of(Map.of("rolename", "device"))))).doesNotContainKey("error");
            assertThat(admin.command(Map.of("command", "deleteClient", "username", deleted.id))).doesNotContainKey("error");
            assertThat(admin.command(Map.of("command", "removeClientRole", "username", stripped.id, "rolename", "device")))
                    .doesNotContainKey("error");
            String operators = "operator-" + UUID.randomUUID().toString().substring(0, 8);
            assertThat(admin.command(Map.of("command", "createClient", "username", operators, "password", "x-" + UUID.randomUUID())))
                    .doesNotContainKey("error");

            await("the reconciliation gives " + deleted.id + " its access back", Duration.ofSeconds(60), deleted::hasAccess);
            await("the reconciliation gives " + stripped.id + " its role back", Duration.ofSeconds(60), stripped::hasAccess);
            await("the reconciliation removes " + revoked.id, Duration.ofSeconds(60),
                    () -> admin.command(Map.of("command", "getClient", "username", revoked.id)).containsKey("error"));
            assertThat(admin.command(Map.of("command", "getClient", "username", operators)))
                    .as("an operator's own client is left alone").doesNotContainKey("error");
            assertThat(admin.command(Map.of("command", "getClient", "username", ADMIN)))
                    .as("Trent's admin client is left alone").doesNotContainKey("error");
        }
        assertThat(observer.hasAccess()).isTrue();
    }

    @Test
    void enrollWhenDeviceIdNamesTheAdminOrAnOperatorsClientThenRefusedOrLeftAlone() throws Exception {
        // The admin's name: a certificate with it would log in as the admin (use_identity_as_username).
        dev.trent.support.ProblemAssert.assertProblem(client().postJson("/api/v1/enrollment-tokens", ADMIN_KEY,
                Map.of("deviceId", ADMIN, "profile", "device")), 400, "device-id-reserved");

        try (Admin admin = new Admin()) {
            // An operator's own client (a password, no device role, no marker), then a device of that name.
            String name = "op-" + UUID.randomUUID().toString().substring(0, 8);
            assertThat(admin.command(Map.of("command", "createClient", "username", name, "password",
                    "x-" + UUID.randomUUID()))).doesNotContainKey("error");
            TestCsrs.Csr csr = TestCsrs.ecP256(name);
            TrentClient c = client();
            TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, name, "device", null), "application/pkcs10", csr.der(),
                    null);
            assertThat(r.status()).as(r.toString()).isEqualTo(201);

            await("the relay reports the client as someone else's", Duration.ofSeconds(15), () -> {
                List<String> errors = jdbc.queryForList("select last_error from broker_sync where device_id = ?",
                        String.class, name);
                return !errors.isEmpty() && errors.get(0) != null && errors.get(0).contains("is not Trent's");
            });
            Map<String, Object> client = admin.command(Map.of("command", "getClient", "username", name));
            assertThat(String.valueOf(client.get("data"))).as("left alone: no device role, no marker")
                    .doesNotContain("rolename=device").doesNotContain("managed by Trent");

            // Revoking the device does not delete the operator's client either.
            TrentClient.Response revoked = c.postJson("/api/v1/certificates/"
                    + r.certificates().get(0).getSerialNumber().toString(16) + "/revoke", ADMIN_KEY,
                    Map.of("reason", "cessationOfOperation"));
            assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
            await("the sync of the revoked device is done", Duration.ofSeconds(15), () -> jdbc.queryForObject(
                    "select count(*) from broker_sync where device_id = ?", Integer.class, name) == 0);
            assertThat(admin.command(Map.of("command", "getClient", "username", name))).doesNotContainKey("error");
        }
    }

    private JsonNode mosquittoHealth() {
        return client().get("/actuator/health", ADMIN_KEY, null).json().path("components").path("mosquitto");
    }

    /** The operator at the broker: dynsec commands as the admin client, answers by correlationData. */
    private static final class Admin implements AutoCloseable {
        private final MqttClient mqtt;
        private final BlockingQueue<JsonNode> responses = new LinkedBlockingQueue<>();

        Admin() throws MqttException {
            mqtt = new MqttClient("tcp://127.0.0.1:" + CONTROL_PORT, "it-admin-" + UUID.randomUUID(), new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setUserName(ADMIN);
            o.setPassword(ADMIN_PASSWORD.toCharArray());
            mqtt.connect(o);
            mqtt.subscribe("$CONTROL/dynamic-security/v1/response", 1, (t, m) -> {
                for (JsonNode r : TrentClient.JSON.readTree(m.getPayload()).path("responses")) {
                    responses.add(r);
                }
            });
        }

        /** The answer as a map: {@code error} present when the command failed. */
        @SuppressWarnings("unchecked")
        Map<String, Object> command(Map<String, Object> command) {
            try {
                String id = UUID.randomUUID().toString();
                Map<String, Object> c = new LinkedHashMap<>(command);
                c.put("correlationData", id);
                mqtt.publish("$CONTROL/dynamic-security/v1", TrentClient.JSON.writeValueAsBytes(
                        Map.of("commands", List.of(c))), 1, false);
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                List<JsonNode> others = new ArrayList<>();
                try {
                    while (System.nanoTime() < end) {
                        JsonNode r = responses.poll(100, TimeUnit.MILLISECONDS);
                        if (r != null && id.equals(r.path("correlationData").asString(""))) {
                            return TrentClient.JSON.convertValue(r, Map.class);
                        } else if (r != null) {
                            others.add(r);
                        }
                    }
                } finally {
                    responses.addAll(others);
                }
                throw new AssertionError("no answer to " + command);
            } catch (MqttException e) {
                throw new AssertionError(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        @Override
        public void close() throws MqttException {
            mqtt.disconnect();
            mqtt.close();
        }
    }
}
