package dev.trent.broker;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallbackExtended;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.trent.config.TrentProperties;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Trent's MQTT connection to Mosquitto's dynamic-security plugin: commands are published to
 * {@code $CONTROL/dynamic-security/v1}, each with its own {@code correlationData}, and every
 * command's answer is awaited on {@code $CONTROL/dynamic-security/v1/response} (other
 * instances' answers arrive there too and are ignored).
 *
 * <p>The first connection is retried in the background until it succeeds (Trent starts while
 * the broker is down); after that Paho's automatic reconnect takes over, at most
 * {@link #MAX_RECONNECT_DELAY} apart. Each time the response subscription is in place
 * {@code onReady} runs, so the relay and the reconciliation catch up with what happened while
 * the broker was away. The password is never logged.
 *
 * @see <a href="https://github.com/eclipse-mosquitto/mosquitto/blob/v2.0.11/plugins/dynamic-security/README.md">dynamic-security commands</a>
 */
final class DynsecConnection implements AutoCloseable {

    static final String COMMAND_TOPIC = "$CONTROL/dynamic-security/v1";
    static final String RESPONSE_TOPIC = "$CONTROL/dynamic-security/v1/response";
    static final Duration MAX_RECONNECT_DELAY = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(DynsecConnection.class);

    private final TrentProperties.Mosquitto settings;
    private final char[] password;
    private final Runnable onReady;
    private final JsonMapper json = JsonMapper.builder().build();
    private final Map<String, CompletableFuture<DynsecResponse>> pending = new ConcurrentHashMap<>();
    private final ScheduledExecutorService retry = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mosquitto-connect");
        t.setDaemon(true);
        return t;
    });
    private final MqttAsyncClient client;
    private final MqttConnectOptions options;
    private volatile boolean ready;
    private volatile boolean closed;
    private volatile String lastProblem = "not connected yet";

    DynsecConnection(TrentProperties.Mosquitto settings, Runnable onReady) {
        this.settings = settings;
        this.password = readPassword(settings);
        this.onReady = onReady;
        try {
            this.client = new MqttAsyncClient(settings.url().toString(),
                    "trent-" + UUID.randomUUID().toString().substring(0, 12), new MemoryPersistence());
        } catch (MqttException e) {
            throw new IllegalStateException("trent.mosquitto.url: " + e.getMessage(), e);
        }
        this.options = new MqttConnectOptions();
        options.setUserName(settings.username());
        options.setPassword(password);
        options.setCleanSession(true);
        options.setAutomaticReconnect(true);
        options.setMaxReconnectDelay((int) MAX_RECONNECT_DELAY.toMillis());
        options.setConnectionTimeout(10);
        options.setKeepAliveInterval(30);
        if ("ssl".equalsIgnoreCase(settings.url().getScheme()) && settings.caFile() != null) {
            options.setSocketFactory(trusting(settings).getSocketFactory());
        }
        client.setCallback(new Callback());
    }

    /** The password from the file (content, one trailing newline ignored) or the setting. */
    static char[] readPassword(TrentProperties.Mosquitto settings) {
        if (settings.passwordFile() != null) {
            try {
                String s = Files.readString(settings.passwordFile(), StandardCharsets.UTF_8);
                if (s.endsWith("\r\n")) {
                    s = s.substring(0, s.length() - 2);
                } else if (s.endsWith("\n")) {
                    s = s.substring(0, s.length() - 1);
                }
                return s.toCharArray();
            } catch (IOException e) {
                throw new IllegalStateException("cannot read trent.mosquitto.password-file " + settings.passwordFile()
                        + ": " + e.getMessage(), e);
            }
        }
        return settings.password().toCharArray();
    }

    private static SSLContext trusting(TrentProperties.Mosquitto settings) {
        try (InputStream in = Files.newInputStream(settings.caFile())) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalStateException("trent.mosquitto.ca-file " + settings.caFile() + " holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read trent.mosquitto.ca-file " + settings.caFile() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Starts connecting in the background; returns at once. */
    void start() {
        retry.execute(() -> connect(Duration.ofMillis(500)));
    }

    private void connect(Duration nextDelay) {
        if (closed) {
            return;
        }
        try {
            client.connect(options, null, new IMqttActionListener() {
                @Override
                public void onSuccess(IMqttToken token) {
                    // connectComplete subscribes; from here on Paho reconnects by itself.
                }

                @Override
                public void onFailure(IMqttToken token, Throwable e) {
                    lastProblem = "cannot connect: " + describe(e);
                    log.warn("Mosquitto at {} not reachable ({}); retrying in {}", settings.url(), describe(e), nextDelay);
                    schedule(nextDelay);
                }
            });
        } catch (MqttException e) {
            lastProblem = "cannot connect: " + describe(e);
            log.warn("Mosquitto at {}: cannot start connecting ({}); retrying in {}", settings.url(), describe(e), nextDelay);
            schedule(nextDelay);
        }
    }

    private void schedule(Duration delay) {
        if (closed) {
            return;
        }
        Duration next = delay.multipliedBy(2).compareTo(MAX_RECONNECT_DELAY) > 0 ? MAX_RECONNECT_DELAY : delay.multipliedBy(2);
        retry.schedule(() -> connect(next), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        if (e.getCause() != null && e.getCause() != e) {
            sb.append(": ").append(e.getCause().getMessage());
        }
        return sb.toString();
    }

    /** Connected and subscribed to the responses. */
    boolean ready() {
        return ready;
    }

    /** Why the connection is not ready, for health details. */
    String lastProblem() {
        return lastProblem;
    }

    /**
     * Sends the commands (in messages of at most {@link #MESSAGE_COMMANDS}) and waits for every
     * answer, in order; each message's answers within the command timeout.
     *
     * @throws DynsecException when not connected, or an answer did not come within the command timeout
     */
    List<DynsecResponse> execute(List<Map<String, Object>> commands) throws DynsecException {
        List<DynsecResponse> out = new ArrayList<>(commands.size());
        for (int from = 0; from < commands.size(); from += MESSAGE_COMMANDS) {
            out.addAll(executeOne(commands.subList(from, Math.min(commands.size(), from + MESSAGE_COMMANDS))));
        }
        return out;
    }

    /**
     * Most commands in one message. Mosquitto 2.0's dynsec plugin rewrites its whole JSON file
     * after every change, so a message of many changes takes the broker a while on a large
     * broker; each message gets the whole command timeout.
     */
    static final int MESSAGE_COMMANDS = 50;

    private List<DynsecResponse> executeOne(List<Map<String, Object>> commands) throws DynsecException {
        if (!ready) {
            throw new DynsecException("not connected to Mosquitto (" + lastProblem + ")");
        }
        List<String> ids = new ArrayList<>(commands.size());
        List<Map<String, Object>> tagged = new ArrayList<>(commands.size());
        for (Map<String, Object> c : commands) {
            String id = UUID.randomUUID().toString();
            ids.add(id);
            pending.put(id, new CompletableFuture<>());
            Map<String, Object> t = new LinkedHashMap<>(c);
            t.put("correlationData", id);
            tagged.add(t);
        }
        try {
            byte[] payload = json.writeValueAsBytes(Map.of("commands", tagged));
            // QoS 0: the answer is the acknowledgement that counts (a lost command times out and is
            // retried; every command is idempotent), and a PUBACK before the answer would meet
            // Nagle's algorithm on the broker and the delayed ACK here: ~40 ms per command.
            client.publish(COMMAND_TOPIC, payload, 0, false);
            long deadline = System.nanoTime() + settings.commandTimeout().toNanos();
            List<DynsecResponse> out = new ArrayList<>(ids.size());
            for (String id : ids) {
                long left = Math.max(1, deadline - System.nanoTime());
                out.add(pending.get(id).get(left, TimeUnit.NANOSECONDS));
            }
            return out;
        } catch (MqttException e) {
            throw new DynsecException("cannot publish to Mosquitto: " + describe(e), e);
        } catch (TimeoutException e) {
            throw new DynsecException("Mosquitto did not answer within " + settings.commandTimeout(), e);
        } catch (ExecutionException e) {
            throw new DynsecException("Mosquitto command failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DynsecException("interrupted while waiting for Mosquitto", e);
        } finally {
            ids.forEach(pending::remove);
        }
    }

    /** One command; its answer, error or not. */
    DynsecResponse execute(Map<String, Object> command) throws DynsecException {
        return execute(List.of(command)).get(0);
    }

    @Override
    public void close() {
        closed = true;
        ready = false;
        retry.shutdownNow();
        try {
            if (client.isConnected()) {
                client.disconnect(1000).waitForCompletion(2000);
            }
        } catch (MqttException e) {
            log.debug("Mosquitto disconnect: {}", describe(e));
        }
        try {
            client.close(true);
        } catch (MqttException e) {
            log.debug("Mosquitto client close: {}", describe(e));
        }
    }

    private final class Callback implements MqttCallbackExtended {

        @Override
        public void connectComplete(boolean reconnect, String serverUri) {
            try {
                client.subscribe(RESPONSE_TOPIC, 0, null, new IMqttActionListener() {
                    @Override
                    public void onSuccess(IMqttToken token) {
                        int[] qos = token.getGrantedQos();
                        if (qos != null && qos.length > 0 && qos[0] == 0x80) {
                            lastProblem = "subscription to " + RESPONSE_TOPIC + " refused: give "
                                    + settings.username() + " the dynsec admin ACLs";
                            log.error("Mosquitto refused {} the subscription to {}; Trent cannot check any command",
                                    settings.username(), RESPONSE_TOPIC);
                            return;
                        }
                        ready = true;
                        lastProblem = null;
                        log.info("Connected to Mosquitto at {} as {}{}", serverUri, settings.username(),
                                reconnect ? " (reconnected)" : "");
                        onReady.run();
                    }

                    @Override
                    public void onFailure(IMqttToken token, Throwable e) {
                        lastProblem = "cannot subscribe to responses: " + describe(e);
                        log.warn("Mosquitto: cannot subscribe to {}: {}", RESPONSE_TOPIC, describe(e));
                    }
                });
            } catch (MqttException e) {
                lastProblem = "cannot subscribe to responses: " + describe(e);
                log.warn("Mosquitto: cannot subscribe to {}: {}", RESPONSE_TOPIC, describe(e));
            }
        }

        @Override
        public void connectionLost(Throwable cause) {
            ready = false;
            lastProblem = "connection lost: " + describe(cause);
            log.warn("Connection to Mosquitto at {} lost ({}); reconnecting", settings.url(), describe(cause));
            DynsecException gone = new DynsecException("connection to Mosquitto lost", cause);
            pending.values().forEach(f -> f.completeExceptionally(gone));
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            if (!RESPONSE_TOPIC.equals(topic)) {
                return;
            }
            JsonNode root;
            try {
                root = json.readTree(message.getPayload());
            } catch (RuntimeException e) {
                log.warn("Mosquitto: unreadable dynsec response ({} bytes)", message.getPayload().length);
                return;
            }
            for (JsonNode r : root.path("responses")) {
                String id = r.path("correlationData").asString(null);
                CompletableFuture<DynsecResponse> f = id == null ? null : pending.get(id);
                if (f != null) {
                    JsonNode error = r.get("error");
                    f.complete(new DynsecResponse(r.path("command").asString(""),
                            error == null || error.isNull() ? null : error.asString(), r.path("data")));
                }
            }
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
            // QoS 1 acknowledgement; the answer on the response topic is what counts.
        }
    }
}
