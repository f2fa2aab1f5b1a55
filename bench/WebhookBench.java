import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.sun.net.httpserver.HttpServer;

/**
 * Webhook benchmark for Trent: a single-file source program (JDK 17, no dependencies). Not a test.
 *
 * <pre>
 * java bench/WebhookBench.java --url http://127.0.0.1:18094 --admin KEY --csr csr.pem --dir DIR \
 *     [--revocations 100] [--warmup 20000] [--count 5000] [--rounds 3] [--concurrency 16]
 * </pre>
 *
 * Runs a webhook receiver (com.sun.net.httpserver, loopback) in this JVM that checks every
 * Standard Webhooks signature, then:
 * <ol>
 * <li>latency: registers an endpoint for {@code certificate.revoked}; for each of
 * {@code --revocations} certificates enrolls one, revokes it, and takes the time from the revoke
 * call's response to the webhook's arrival; prints median, p90 and max;</li>
 * <li>throughput: runs {@code bench/EnrollLoad.java} (16 closed-loop clients) {@code --rounds}
 * times in each of three modes, the order rotating per round: {@code none} (no endpoint),
 * {@code revoked} (an endpoint for {@code certificate.revoked}: every enrollment looks for
 * subscribers, none is written), {@code issued} (an endpoint for {@code certificate.issued}: every
 * enrollment writes an outbox row, and Trent sends each one here). After an {@code issued} phase
 * it waits until every webhook has arrived before the next phase. Prints enrollments/s per phase
 * and the median ratios against {@code none}.</li>
 * </ol>
 */
public final class WebhookBench {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final Pattern SERIAL = Pattern.compile("\"serial\"\\s*:\\s*\"([0-9a-f]+)\"");
    private static final Pattern ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");
    private static final Pattern SECRET = Pattern.compile("\"secret\"\\s*:\\s*\"(whsec_[^\"]+)\"");
    private static final Pattern TYPE = Pattern.compile("\"type\"\\s*:\\s*\"([a-z.]+)\"");

    private static String base;
    private static String admin;
    /** Arrival time (System.nanoTime) of the first webhook per "type serial". */
    private static final Map<String, Long> arrivals = new ConcurrentHashMap<>();
    private static final AtomicLong received = new AtomicLong();
    private static final AtomicLong badSignatures = new AtomicLong();
    private static final Map<String, byte[]> secrets = new ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        base = o.get("url");
        admin = o.get("admin");
        if (!URI.create(base).getHost().equals("127.0.0.1")) {
            throw new IllegalArgumentException("loopback URLs only");
        }
        String csr = Files.readString(Path.of(o.get("csr")));
        Path dir = Path.of(o.get("dir"));
        int revocations = Integer.parseInt(o.getOrDefault("revocations", "100"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "20000"));
        int count = Integer.parseInt(o.getOrDefault("count", "5000"));
        int rounds = Integer.parseInt(o.getOrDefault("rounds", "3"));
        int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "16"));

        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
        receiver.setExecutor(Executors.newFixedThreadPool(4));
        receiver.createContext("/", exchange -> {
            try (exchange; InputStream in = exchange.getRequestBody()) {
                byte[] body = in.readAllBytes();
                long at = System.nanoTime();
                String path = exchange.getRequestURI().getPath();
                if (!verify(secrets.get(path), exchange.getRequestHeaders().getFirst("webhook-id"),
                        exchange.getRequestHeaders().getFirst("webhook-timestamp"),
                        exchange.getRequestHeaders().getFirst("webhook-signature"), body)) {
                    badSignatures.incrementAndGet();
                }
                String text = new String(body, StandardCharsets.UTF_8);
                Matcher t = TYPE.matcher(text);
                Matcher s = SERIAL.matcher(text);
                if (t.find() && s.find()) {
                    arrivals.putIfAbsent(t.group(1) + " " + s.group(1), at);
                }
                received.incrementAndGet();
                exchange.sendResponseHeaders(204, -1);
            }
        });
        receiver.start();
        String hookBase = "http://127.0.0.1:" + receiver.getAddress().getPort();

        // ---- 1. revoke call returned -> webhook received ----
        long endpoint = register(hookBase + "/revoked", "certificate.revoked");
        long[] latencies = new long[revocations];
        for (int i = 0; i < revocations; i++) {
            String token = field(ID_TOKEN, post("/api/v1/enrollment-tokens", "{\"deviceId\":\"whb-" + System.nanoTime()
                    + "\",\"profile\":\"device\"}", "application/json", 201));
            String serial = field(SERIAL, enroll(token, csr));
            post("/api/v1/certificates/" + serial + "/revoke", "{\"reason\":\"cessationOfOperation\"}",
                    "application/json", 200);
            long returned = System.nanoTime();
            String key = "certificate.revoked " + serial;
            long deadline = returned + Duration.ofSeconds(30).toNanos();
            while (!arrivals.containsKey(key) && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                Thread.sleep(0, 200_000);
            }
            Long at = arrivals.get(key);
            if (at == null) {
                throw new IllegalStateException("no webhook for " + serial + " within 30 s");
            }
            latencies[i] = at - returned;
        }
        Arrays.sort(latencies);
        System.out.printf(Locale.ROOT, "[latency] %d revocations, revoke call returned -> webhook received: median %.1f ms"
                + "  p90 %.1f ms  max %.1f ms  min %.1f ms%n", revocations, ms(pct(latencies, 50)),
                ms(pct(latencies, 90)), ms(latencies[latencies.length - 1]), ms(latencies[0]));
        System.out.printf(Locale.ROOT, "RESULT revoke_to_webhook median_ms=%.1f p90_ms=%.1f max_ms=%.1f n=%d "
                + "bad_signatures=%d%n", ms(pct(latencies, 50)), ms(pct(latencies, 90)),
                ms(latencies[latencies.length - 1]), revocations, badSignatures.get());
        delete(endpoint);

        // ---- 2. enrollment throughput: none / revoked / issued ----
        List<String> modes = List.of("none", "revoked", "issued");
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        modes.forEach(m -> rates.put(m, new ArrayList<>()));
        List<Double> ratioRevoked = new ArrayList<>();
        List<Double> ratioIssued = new ArrayList<>();
        System.out.printf(Locale.ROOT, "[throughput] warm-up: %d enrollments (no endpoint)%n", warmup);
        enrollLoad(dir, "warmup", warmup, concurrency);
        for (int r = 1; r <= rounds; r++) {
            Map<String, Double> round = new LinkedHashMap<>();
            for (int k = 0; k < modes.size(); k++) {
                String mode = modes.get((k + r - 1) % modes.size());
                Long id = mode.equals("none") ? null : register(hookBase + "/" + mode + "-" + r, "certificate." + mode);
                long before = received.get();
                double rate = enrollLoad(dir, mode + "-" + r, count, concurrency);
                String drained = "";
                if (mode.equals("issued")) {
                    long t0 = System.nanoTime();
                    long deadline = t0 + Duration.ofMinutes(5).toNanos();
                    while (received.get() - before < count && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    drained = String.format(Locale.ROOT, "; %d webhooks received, the last %.1f s after the load ended",
                            received.get() - before, (System.nanoTime() - t0) / 1e9);
                }
                if (id != null) {
                    delete(id);
                }
                round.put(mode, rate);
                rates.get(mode).add(rate);
                System.out.printf(Locale.ROOT, "[throughput] round %d %-8s %.0f enrollments/s%s%n", r, mode, rate, drained);
            }
            ratioRevoked.add(round.get("revoked") / round.get("none"));
            ratioIssued.add(round.get("issued") / round.get("none"));
            System.out.printf(Locale.ROOT, "[throughput] round %d ratios: revoked/none %.3f, issued/none %.3f%n", r,
                    ratioRevoked.get(ratioRevoked.size() - 1), ratioIssued.get(ratioIssued.size() - 1));
        }
        System.out.printf(Locale.ROOT, "RESULT enroll none_median=%.0f revoked_median=%.0f issued_median=%.0f "
                + "ratio_revoked_median=%.3f ratio_issued_median=%.3f rounds=%d count=%d bad_signatures=%d%n",
                median(rates.get("none")), median(rates.get("revoked")), median(rates.get("issued")),
                median(ratioRevoked), median(ratioIssued), rounds, count, badSignatures.get());
        receiver.stop(0);
        System.exit(0);
    }

    private static final Pattern ID_TOKEN = Pattern.compile("\"token\"\\s*:\\s*\"([^\"]+)\"");

    /** Tokens for {@code n} enrollments, then bench/EnrollLoad.java on them; its enrollments/s. */
    private static double enrollLoad(Path dir, String name, int n, int concurrency) throws Exception {
        Path tokens = dir.resolve("tokens-" + name + ".csv");
        StringBuilder csv = new StringBuilder();
        for (int from = 0; from < n; from += 10_000) {
            StringBuilder ids = new StringBuilder();
            for (int i = from; i < Math.min(n, from + 10_000); i++) {
                ids.append(ids.length() == 0 ? "" : ",").append("\"whb-").append(name).append('-')
                        .append(System.nanoTime()).append('-').append(i).append('"');
            }
            String body = send("POST", "/api/v1/enrollment-tokens/batch", "{\"profile\":\"device\",\"deviceIds\":["
                    + ids + "]}", "text/csv", 201);
            for (String line : body.split("\r?\n")) {
                if (!line.isBlank() && !line.startsWith("device_id,")) {
                    csv.append(line).append('\n');
                }
            }
        }
        Files.writeString(tokens, csv);
        Process p = new ProcessBuilder("java", "-XX:+UseSerialGC", "bench/EnrollLoad.java", "--url", base, "--tokens",
                tokens.toString(), "--warmup", "0", "--count", Integer.toString(n), "--concurrency",
                Integer.toString(concurrency), "--max-seconds", "300")
                .redirectErrorStream(true).redirectOutput(dir.resolve("enroll-" + name + ".txt").toFile()).start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("EnrollLoad failed; see " + dir.resolve("enroll-" + name + ".txt"));
        }
        for (String line : Files.readAllLines(dir.resolve("enroll-" + name + ".txt"))) {
            Matcher m = Pattern.compile("^RESULT enroll_per_s=(\\d+).* errors=(\\d+)").matcher(line);
            if (m.find()) {
                if (!m.group(2).equals("0")) {
                    throw new IllegalStateException(name + ": " + line);
                }
                return Double.parseDouble(m.group(1));
            }
        }
        throw new IllegalStateException("no RESULT from EnrollLoad in " + name);
    }

    private static long register(String url, String type) throws Exception {
        String body = post("/api/v1/webhooks", "{\"url\":\"" + url + "\",\"eventTypes\":[\"" + type + "\"]}",
                "application/json", 201);
        secrets.put(URI.create(url).getPath(), Base64.getDecoder().decode(field(SECRET, body).substring(6)));
        return Long.parseLong(field(ID, body));
    }

    private static void delete(long id) throws Exception {
        send("DELETE", "/api/v1/webhooks/" + id, null, "application/json", 200);
    }

    /** Standard Webhooks: v1,base64(HMAC-SHA256(secret, id.timestamp.body)), compared in constant time. */
    private static boolean verify(byte[] secret, String id, String timestamp, String signature, byte[] body) {
        if (secret == null || id == null || timestamp == null || signature == null) {
            return false;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
            byte[] expected = mac.doFinal(body);
            for (String s : signature.split(" ")) {
                if (s.startsWith("v1,") && MessageDigest.isEqual(expected, Base64.getDecoder().decode(s.substring(3)))) {
                    return true;
                }
            }
            return false;
        } catch (Exception e) {
            return false;
        }
    }

    private static String enroll(String token, String csr) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/v1/enroll"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/x-pem-file")
                .header("Accept", "application/json").POST(HttpRequest.BodyPublishers.ofString(csr)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 201) {
            throw new IllegalStateException("enroll: " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    private static String post(String path, String json, String accept, int expect) throws Exception {
        return send("POST", path, json, accept, expect);
    }

    private static String send(String method, String path, String json, String accept, int expect) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + admin)
                .header("Accept", accept);
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        b.method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != expect) {
            throw new IllegalStateException(method + " " + path + ": " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    private static String field(Pattern p, String json) {
        Matcher m = p.matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no " + p + " in " + json);
        }
        return m.group(1);
    }

    private static long pct(long[] sorted, int p) {
        return sorted[Math.max(0, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}
