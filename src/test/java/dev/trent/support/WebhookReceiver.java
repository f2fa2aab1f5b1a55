package dev.trent.support;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import com.standardwebhooks.Webhook;
import com.standardwebhooks.exceptions.WebhookVerificationException;
import com.sun.net.httpserver.HttpServer;

import tools.jackson.databind.JsonNode;

/**
 * A real HTTP server that receives webhooks, as an integration would: every request is kept
 * (headers with lower-case names, raw body) and answered with the next status queued for its
 * path, else 204. {@link Received#verify} checks the Standard Webhooks signature with the
 * project's reference library.
 */
public final class WebhookReceiver implements AutoCloseable {

    private final HttpServer server;
    private final List<Received> received;
    private final Map<String, Deque<Integer>> answers;

    private WebhookReceiver(HttpServer server, List<Received> received, Map<String, Deque<Integer>> answers) {
        this.server = server;
        this.received = received;
        this.answers = answers;
    }

    /** A request as it arrived. */
    public record Received(String path, Map<String, List<String>> headers, String body, long receivedNanos) {

        public String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        public JsonNode json() {
            return TrentClient.JSON.readTree(body);
        }

        /** Throws unless the signature verifies under {@code secret} ({@code whsec_...}). */
        public void verify(String secret) throws WebhookVerificationException {
            new Webhook(secret).verify(body, headers);
        }
    }

    /** Starts on a free loopback port. */
    public static WebhookReceiver start() throws IOException {
        return start(0);
    }

    /** Starts on the given loopback port (0: any free one). */
    public static WebhookReceiver start(int port) throws IOException {
        return start(port, new CopyOnWriteArrayList<>(), new ConcurrentHashMap<>());
    }

    /** Starts again on the same port, keeping what was received. */
    public WebhookReceiver restart() throws IOException {
        return start(port(), received, answers);
    }

    private static WebhookReceiver start(int port, List<Received> received, Map<String, Deque<Integer>> answers)
            throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 50);
        server.createContext("/", exchange -> {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                byte[] body = in.readAllBytes();
                Map<String, List<String>> headers = new TreeMap<>();
                exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
                String path = exchange.getRequestURI().getPath();
                received.add(new Received(path, headers, new String(body, StandardCharsets.UTF_8), System.nanoTime()));
                Deque<Integer> queued = answers.get(path);
                Integer status = queued == null ? null : queued.pollFirst();
                exchange.sendResponseHeaders(status == null ? 204 : status, -1);
            }
        });
        server.start();
        return new WebhookReceiver(server, received, answers);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    /** The next requests to {@code path} are answered with these statuses, in order. */
    public void answer(String path, Integer... statuses) {
        answers.computeIfAbsent(path, p -> new ConcurrentLinkedDeque<>()).addAll(List.of(statuses));
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    public List<Received> received(Predicate<Received> filter) {
        List<Received> out = new ArrayList<>();
        for (Received r : received) {
            if (filter.test(r)) {
                out.add(r);
            }
        }
        return out;
    }

    /** Polls until a request matches, or the deadline passes (then empty). */
    public Optional<Received> await(Predicate<Received> filter, Duration deadline) throws InterruptedException {
        return awaitCount(filter, 1, deadline).stream().findFirst();
    }

    /** Polls until {@code count} requests match, or the deadline passes; what matched by then. */
    public List<Received> awaitCount(Predicate<Received> filter, int count, Duration deadline)
            throws InterruptedException {
        long end = System.nanoTime() + deadline.toNanos();
        List<Received> matched = received(filter);
        while (matched.size() < count && System.nanoTime() < end) {
            Thread.sleep(10);
            matched = received(filter);
        }
        return matched;
    }

    /** A matcher: the event type and the certificate serial of a webhook body. */
    public static Predicate<Received> event(String type, String serial) {
        return r -> {
            try {
                JsonNode j = r.json();
                return type.equals(j.path("type").asString()) && serial.equals(j.path("data").path("serial").asString());
            } catch (RuntimeException e) {
                return false;
            }
        };
    }

    /** Stops at once; requests in progress are cut off. */
    @Override
    public void close() {
        server.stop(0);
    }
}
