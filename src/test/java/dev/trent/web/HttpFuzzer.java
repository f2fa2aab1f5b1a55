package dev.trent.web;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.yaml.snakeyaml.Yaml;

/**
 * An HTTP-level fuzzer for Trent: reads {@code openapi.yaml} (operations, their parameters and
 * request body media types) and sends mutated requests to every operation over raw sockets (so
 * that malformed request lines, escapes, headers and bodies reach the server as written): bad
 * {@code %} escapes and invalid UTF-8 in paths and query strings, out-of-range numbers and
 * timestamps, wildcard or broken {@code Content-Type}s, truncated or garbage bodies, NUL in
 * strings, deep JSON, oversized headers, other methods, with and without credentials; bodies in
 * chunked transfer coding (some malformed, some beside a Content-Length), and keep-alive
 * connections on which a well-formed request follows the mutated one.
 *
 * <p>A response fails when its status is 5xx (or there is none), when an error (4xx) is not
 * {@code application/problem+json}, or when an OCSP request is not answered with
 * {@code application/ocsp-response}, or when the request that follows a kept-alive one on its
 * connection gets anything but its own 200 (the server closing the connection first is fine).
 * Request {@code i} of a run with seed {@code s} is made from
 * {@code new Random(s * 1_000_003 + i)}, so every failure reproduces from the seed and index
 * printed with it.
 *
 * <p>Used by {@code HttpFuzzIT} and, as a single-file program (JDK 17 plus SnakeYAML on the
 * class path), by {@code bench/fuzz-bench.sh}:
 * {@code java -cp snakeyaml.jar HttpFuzzer.java --port P --admin KEY [--count N] [--seed S] [--threads T]}.
 */
public final class HttpFuzzer {

    /** One documented operation. */
    record Operation(String method, String path, List<Param> params, List<String> bodyTypes,
            Map<String, Object> bodySchema, boolean open) {
        boolean ocsp() {
            return path.startsWith("/ocsp");
        }
    }

    record Param(String name, String in, String type, String format) {
    }

    /**
     * A request as sent; {@code ocsp} when its target is an OCSP endpoint (status-agnostic check);
     * {@code chunked} when {@code body} is already in chunked transfer coding (else a
     * Content-Length is added); {@code keepAlive} when a second, well-formed request follows it on
     * the same connection; {@code pipelined} when bytes after the end of the chunked body form a
     * (malformed) request of their own, which the server must answer, with a 400, before the
     * request that follows.
     */
    record Request(long index, String method, String target, List<String> headers, byte[] body, boolean ocsp,
            boolean chunked, boolean keepAlive, boolean pipelined) {
        String describe() {
            String b = body.length > 300 ? printable(java.util.Arrays.copyOf(body, 300)) + "...(" + body.length
                    + " bytes)" : printable(body);
            String t = target.length() > 300 ? target.substring(0, 300) + "...(" + target.length() + " chars)" : target;
            List<String> hs = new ArrayList<>();
            for (String h : headers) {
                hs.add(h.length() > 200 ? h.substring(0, 200) + "...(" + h.length() + " chars)" : h);
            }
            return "#" + index + " " + printable(method.getBytes(StandardCharsets.ISO_8859_1)) + " "
                    + printable(t.getBytes(StandardCharsets.ISO_8859_1)) + " headers=" + hs + " body=" + b
                    + (chunked ? " (chunked)" : "") + (keepAlive ? " (keep-alive, then " + PROBE_TARGET + ")" : "");
        }
    }

    /**
     * What came back; for a keep-alive request {@code probeStatus} is the status of the request
     * that followed it on the connection (0: the server closed the connection first).
     */
    record Result(Request request, int status, String contentType, String body, int probeStatus) {
        Result(Request request, int status, String contentType, String body) {
            this(request, status, contentType, body, 0);
        }
    }

    /** The well-formed request sent after a keep-alive one, on the same connection. */
    static final String PROBE_TARGET = "/actuator/health/liveness";

    /** What a run found. */
    public record Summary(long seed, long requests, SortedMap<Integer, Long> statuses, List<String> failures,
            long failureCount, long chunked, long keptAlive, long followedOnTheConnection) {
        public String report() {
            StringBuilder s = new StringBuilder("seed=" + seed + " requests=" + requests + " statuses=" + statuses
                    + " failures=" + failureCount + " chunked=" + chunked + " keep-alive=" + keptAlive
                    + " (answered, then the next request on the connection: " + followedOnTheConnection + ")\n");
            failures.forEach(f -> s.append("  ").append(f).append('\n'));
            return s.toString();
        }
    }

    private static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE",
        "FOO", "get", "CONNECT"};
    private static final String[] INTEGERS = {"0", "1", "50", "-1", "+1", "2147483647", "2147483648", "-2147483649",
        "9223372036854775807", "9223372036854775808", "99999999999999999999999", "1e3", "0x10", "1.5", "", " 1",
        "%31", "abc", "%00", "%"};
    private static final String[] STRINGS = {"x", "device-1", "ABCDEF0123456789", "%", "%zz", "%G1", "%00", "a%00b",
        "%ff%fe", "%c3%28", "%C0%AF", "%E2%82%AC", "..", "%2e%2e", ";x", "a%2Fb", "%25", "%5C", "\u00e9", "+", "%20",
        "2030-01-01T00:00:00Z", "+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "2030-13-45T99:99:99Z",
        "1970-01-01T00:00:00Z", "active", "revoked", "true", "null", "*"};
    private static final String[] CONTENT_TYPES = {"*/*", "application/*+json", "application/*", "*/json",
        "application/json; charset=x", "application/json; charset=", "application/json;charset=utf-16",
        "application/pkcs10; charset=x", "application/pkcs10; charset=\"", "multipart/form-data",
        "multipart/form-data; boundary=", "multipart/form-data; boundary=x", "multipart/mixed", ";", "/", "",
        " ", "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=x", "text/plain",
        "application/json;;;", "application/json; a=\"unterminated", "application/json; =x", "\u00e9/\u00e9",
        "application/ocsp-request; x", "application/ocsp-request;", "application/pkix-cert",
        "application/problem+json", "text/html; charset=utf-8", "application/json\u0001"};
    private static final String[] ACCEPTS = {"*/*", "", "garbage", "application/json;q=abc", "text/html",
        "application/problem+json", "*/*;q=0", "application/*", ";", "application/json, text/plain;q=0.5",
        "application/openmetrics-text", "text/plain;version=0.0.4", "*/*;q=2", "\u00e9"};
    private static final String[] PATH_MUTATIONS = {"/../", "/./", "//", ";", ";jsessionid=1", "/%2e%2e/", "%",
        "%zz", "%00", "\\", "%5C", "%25", "/..;/", "%ff", "\u0001", "%0a", "?", "#", "/.", "%2F"};

    private final List<Operation> operations;
    private final String host;
    private final int port;
    private final String adminKey;
    private final long seed;
    private final int timeoutMillis;

    public HttpFuzzer(Path openapi, String host, int port, String adminKey, long seed) throws IOException {
        this.operations = readOperations(openapi);
        this.host = host;
        this.port = port;
        this.adminKey = adminKey;
        this.seed = seed;
        this.timeoutMillis = 30_000;
    }

    public List<String> operationNames() {
        return operations.stream().map(o -> o.method() + " " + o.path()).toList();
    }

    // ---- openapi.yaml

    @SuppressWarnings("unchecked")
    static List<Operation> readOperations(Path file) throws IOException {
        Map<String, Object> spec;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            spec = new Yaml().load(in);
        }
        List<Operation> out = new ArrayList<>();
        Map<String, Object> paths = (Map<String, Object>) spec.get("paths");
        for (Map.Entry<String, Object> p : paths.entrySet()) {
            Map<String, Object> item = (Map<String, Object>) p.getValue();
            for (Map.Entry<String, Object> m : item.entrySet()) {
                if (!List.of("get", "post", "put", "delete", "patch").contains(m.getKey())) {
                    continue;
                }
                Map<String, Object> op = (Map<String, Object>) m.getValue();
                List<Param> params = new ArrayList<>();
                for (Object o : (List<Object>) op.getOrDefault("parameters", List.of())) {
                    Map<String, Object> param = resolve(spec, (Map<String, Object>) o);
                    Map<String, Object> schema = resolve(spec, (Map<String, Object>) param.getOrDefault("schema",
                            Map.of()));
                    params.add(new Param((String) param.get("name"), (String) param.get("in"),
                            String.valueOf(schema.getOrDefault("type", "string")), (String) schema.get("format")));
                }
                List<String> types = new ArrayList<>();
                Map<String, Object> bodySchema = Map.of();
                Map<String, Object> body = (Map<String, Object>) op.get("requestBody");
                if (body != null) {
                    Map<String, Object> content = (Map<String, Object>) resolve(spec, body).get("content");
                    types.addAll(content.keySet());
                    Map<String, Object> first = (Map<String, Object>) content.values().iterator().next();
                    bodySchema = inline(spec, (Map<String, Object>) first.getOrDefault("schema", Map.of()), 0);
                }
                Object security = op.get("security");
                boolean open = security instanceof List<?> l && l.isEmpty();
                out.add(new Operation(m.getKey().toUpperCase(Locale.ROOT), p.getKey(), params, types, bodySchema,
                        open));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> resolve(Map<String, Object> spec, Map<String, Object> node) {
        Object ref = node.get("$ref");
        if (ref == null) {
            return node;
        }
        Object target = spec;
        for (String part : ((String) ref).substring(2).split("/")) {
            target = ((Map<String, Object>) target).get(part);
        }
        return resolve(spec, (Map<String, Object>) target);
    }

    /** The schema with every $ref replaced (depth-bounded). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> inline(Map<String, Object> spec, Map<String, Object> schema, int depth) {
        Map<String, Object> s = new LinkedHashMap<>(resolve(spec, schema));
        if (depth > 6) {
            return s;
        }
        for (Map.Entry<String, Object> e : s.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> m && (e.getKey().equals("items")
                    || e.getKey().equals("additionalProperties"))) {
                e.setValue(inline(spec, (Map<String, Object>) m, depth + 1));
            } else if (e.getKey().equals("properties") && e.getValue() instanceof Map<?, ?> props) {
                Map<String, Object> inlined = new LinkedHashMap<>();
                props.forEach((k, v) -> inlined.put((String) k, inline(spec, (Map<String, Object>) v, depth + 1)));
                e.setValue(inlined);
            } else if ((e.getKey().equals("oneOf") || e.getKey().equals("anyOf") || e.getKey().equals("allOf"))
                    && e.getValue() instanceof List<?> l) {
                List<Object> inlined = new ArrayList<>();
                l.forEach(v -> inlined.add(inline(spec, (Map<String, Object>) v, depth + 1)));
                e.setValue(inlined);
            }
        }
        return s;
    }

    // ---- generating requests

    /** Request {@code index} of this run: the same seed and index always give the same request. */
    public Request request(long index) {
        Random r = new Random(seed * 1_000_003L + index);
        Operation op = operations.get(r.nextInt(operations.size()));
        String method = r.nextInt(100) < 85 ? op.method() : pick(r, METHODS);

        // Path with its parameters filled in, possibly mutated.
        String path = op.path();
        for (Param p : op.params()) {
            if (p.in().equals("path")) {
                path = path.replace("{" + p.name() + "}", pathValue(r, op, p));
            }
        }
        boolean pathMutated = false;
        if (r.nextInt(100) < 12) {
            pathMutated = true;
            String m = pick(r, PATH_MUTATIONS);
            int at = r.nextInt(path.length() + 1);
            path = path.substring(0, at) + m + path.substring(at);
            if (r.nextBoolean()) {
                path = path + pick(r, PATH_MUTATIONS) + "api/v1/api-keys";
            }
        }
        // Query string.
        StringBuilder query = new StringBuilder();
        for (Param p : op.params()) {
            if (p.in().equals("query") && r.nextInt(100) < 60) {
                query.append(query.length() == 0 ? "" : "&").append(p.name()).append('=').append(value(r, p));
            }
        }
        if (r.nextInt(100) < 15) {
            String[] extras = {"%=1", "a=%", "a=%zz", "%ff%fe=%c3%28", "&&==&", "a=%00", "page=2147483648",
                "size=-1", "x=" + "%41".repeat(3000), "=", "a[b]=c", "a=1&a=2", ";"};
            query.append(query.length() == 0 ? "" : "&").append(pick(r, extras));
        }
        String target = path + (query.length() > 0 || r.nextInt(100) < 3 ? "?" + query : "");

        List<String> headers = new ArrayList<>();
        headers.add("Host: " + host + ":" + port);
        int auth = r.nextInt(100);
        // Never revoke the key the run authenticates with (that would end the authenticated part).
        boolean revokesKeys = op.path().startsWith("/api/v1/api-keys/") && !method.equals("GET");
        if (auth < 50 && adminKey != null && !revokesKeys) {
            headers.add("Authorization: Bearer " + adminKey);
        } else if (auth < 60) {
            headers.add("Authorization: Bearer trent_ak_" + randomToken(r));
        } else if (auth < 65) {
            headers.add("Authorization: Bearer trent_et_" + randomToken(r));
        } else if (auth < 70) {
            headers.add("Authorization: Basic " + Base64.getEncoder().encodeToString(("device-" + r.nextInt(5) + ":"
                    + "trent_et_" + randomToken(r)).getBytes(StandardCharsets.UTF_8)));
        } else if (auth < 73) {
            headers.add("Authorization: " + pick(r, new String[] {"Basic %%%", "Bearer", "Basic", "Bearer  ",
                "Basic " + Base64.getEncoder().encodeToString(new byte[] {(byte) 0xff, ':', 0})}));
        }
        byte[] body = new byte[0];
        boolean wantsBody = !op.bodyTypes().isEmpty() ? r.nextInt(100) < 92 : r.nextInt(100) < 8;
        String contentType = null;
        if (wantsBody) {
            String documented = op.bodyTypes().isEmpty() ? "application/json" : pick(r, op.bodyTypes());
            contentType = r.nextInt(100) < 65 ? documented : pick(r, CONTENT_TYPES);
            body = body(r, op, documented);
        } else if (r.nextInt(100) < 5) {
            contentType = pick(r, CONTENT_TYPES);
        }
        if (contentType != null) {
            headers.add("Content-Type: " + contentType);
        }
        if (r.nextInt(100) < 30) {
            headers.add("Accept: " + pick(r, ACCEPTS));
        }
        if (r.nextInt(100) < 4) {
            String[] odd = {"X-Big: " + "a".repeat(10_000 + r.nextInt(20_000)), "X-Ctl: a\u0001b", "X-Utf: \u00ff\u00fe",
                "Expect: 100-continue", "Transfer-Encoding: gzip", "Content-Encoding: gzip", "X-Forwarded-For: ::1",
                "X-SSL-Client-Cert: %%%", "Range: bytes=0-1", "If-None-Match: *", "If-Modified-Since: garbage",
                "Cookie: JSESSIONID=%zz", "Origin: http://evil.example"};
            headers.add(pick(r, odd));
        }
        // Over Tomcat's 8 KiB header limit, the request line is not parsed: no path, so no OCSP answer.
        // Tomcat refuses a target with characters RFC 3986 does not allow before it has a path.
        boolean ocsp = op.ocsp() && !pathMutated && target.length() < 7000
                && target.matches("[A-Za-z0-9\\-._~:/?@!$&'()*+,;=%]*");
        // Chunked transfer coding (RFC 9112 7.1) for some bodies, now and then malformed or with
        // a Content-Length beside it (RFC 9112 6.3: Transfer-Encoding wins); keep-alive for some
        // requests, followed on the connection by a well-formed one that must get its own answer
        // (a body read wrongly would leave bytes that the server reads as the next request). Not
        // after HEAD: its answer has a Content-Length and no body.
        boolean chunked = wantsBody && r.nextInt(100) < 15;
        boolean pipelined = false;
        if (chunked) {
            if (r.nextInt(100) < 20) {
                headers.add("Content-Length: " + body.length);
            }
            headers.add(pick(r, new String[] {"Transfer-Encoding: chunked", "Transfer-Encoding: chunked",
                "Transfer-Encoding: Chunked", "transfer-encoding: chunked"}));
            Chunked coded = chunk(r, body);
            body = coded.wire();
            pipelined = coded.pipelined();
        }
        boolean keepAlive = !method.equalsIgnoreCase("HEAD") && r.nextInt(100) < 15;
        return new Request(index, method, target, headers, body, ocsp, chunked, keepAlive, pipelined);
    }

    /**
     * The body in chunked coding: one to four chunks (sizes in hex, some upper-case, some with a
     * chunk extension), the last chunk, sometimes a trailer; one in ten malformed in a way that
     * is complete on the wire (a size that is not hex, a negative or huge size, a missing CRLF),
     * so the server can refuse it at once rather than wait for bytes that never come; or
     * followed by bytes that are not part of the message (RFC 9112 7.1: the message ends at the
     * last chunk and its trailer), which a server reads as the next request on the connection.
     */
    private static Chunked chunk(Random r, byte[] body) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int malformed = r.nextInt(100) < 10 ? r.nextInt(5) : -1;
        int pieces = body.length == 0 ? 0 : 1 + r.nextInt(Math.min(4, body.length));
        int at = 0;
        for (int i = 0; i < pieces; i++) {
            int n = i == pieces - 1 ? body.length - at : 1 + r.nextInt(body.length - at - (pieces - i - 1));
            String size = Integer.toHexString(n);
            size = r.nextBoolean() ? size.toUpperCase(Locale.ROOT) : size;
            if (i == 0 && malformed == 0) {
                size = pick(r, new String[] {"zz", "-1", "0x" + size, " " + size, "", "fffffffffffffffff"});
            }
            String ext = r.nextInt(100) < 10 ? pick(r, new String[] {";a=b", ";x", ";a=\"q\"", "; a = b"}) : "";
            out.writeBytes((size + ext + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(body, at, n);
            out.writeBytes((i == 0 && malformed == 1 ? "XX" : "\r\n").getBytes(StandardCharsets.US_ASCII));
            at += n;
        }
        out.writeBytes((malformed == 2 ? "0;\u0001\r\n" : "0\r\n").getBytes(StandardCharsets.ISO_8859_1));
        if (r.nextInt(100) < 10 || malformed == 3) {
            out.writeBytes((malformed == 3 ? "Trailer without colon\r\n" : "X-Trailer: 1\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        out.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
        if (malformed == 4) {
            out.writeBytes("GARBAGE AFTER THE LAST CHUNK\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        return new Chunked(out.toByteArray(), malformed == 4);
    }

    /** A body in chunked coding as sent; {@code pipelined} when a request line follows its end. */
    private record Chunked(byte[] wire, boolean pipelined) {
    }

    private String pathValue(Random r, Operation op, Param p) {
        if (r.nextInt(100) < 40) {
            return switch (p.name()) {
                case "serial" -> "0A1B2C3D4E5F";
                case "issuerId" -> "deadbeef";
                case "label" -> "device";
                case "group" -> pick(r, new String[] {"readiness", "liveness"});
                case "request" -> "MEIwQDA-MDwwOjAJBgUrDgMCGgUABBQ";
                default -> "1";
            };
        }
        return p.type().equals("integer") ? pick(r, INTEGERS) : pick(r, STRINGS);
    }

    private String value(Random r, Param p) {
        if (p.type().equals("integer") || p.type().equals("number")) {
            return pick(r, INTEGERS);
        }
        if (p.type().equals("boolean")) {
            return pick(r, new String[] {"true", "false", "yes", "%", ""});
        }
        return pick(r, STRINGS);
    }

    private static byte[] body(Random r, Operation op, String type) {
        int kind = r.nextInt(100);
        if (kind < 6) {
            return new byte[0];
        }
        if (kind < 12) {
            byte[] garbage = new byte[1 + r.nextInt(2000)];
            r.nextBytes(garbage);
            return garbage;
        }
        if (kind < 15) {
            return ("a=b&token=trent_et_secret%&c=%zz&%ff=%fe&d=" + "%41".repeat(r.nextInt(100)))
                    .getBytes(StandardCharsets.ISO_8859_1);
        }
        if (type.contains("json")) {
            String json = jsonValue(r, op.bodySchema(), 0, true);
            if (kind < 30) {
                json = json.substring(0, r.nextInt(json.length() + 1));
            } else if (kind < 36) {
                int depth = 500 + r.nextInt(20_000);
                json = "[".repeat(depth) + "]".repeat(r.nextBoolean() ? depth : 0);
            } else if (kind < 40) {
                json = "{\"a\":" + "{\"a\":".repeat(2000) + "1" + "}".repeat(2001);
            }
            return json.getBytes(StandardCharsets.UTF_8);
        }
        // PKCS#10, OCSP and other binary or PEM bodies.
        if (kind < 40) {
            byte[] b = new byte[r.nextInt(600)];
            r.nextBytes(b);
            return ("-----BEGIN CERTIFICATE REQUEST-----\n" + Base64.getMimeEncoder().encodeToString(b)
                    + "\n-----END CERTIFICATE REQUEST-----\n").getBytes(StandardCharsets.US_ASCII);
        }
        if (kind < 60) {
            byte[] b = new byte[r.nextInt(600)];
            r.nextBytes(b);
            return Base64.getEncoder().encodeToString(b).getBytes(StandardCharsets.US_ASCII);
        }
        if (kind < 70) {
            // DER SEQUENCE headers with absurd lengths and nesting.
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            int depth = 1 + r.nextInt(3000);
            for (int i = 0; i < depth; i++) {
                out.write(0x30);
                out.write(0x80);
            }
            return out.toByteArray();
        }
        if (kind < 75) {
            return new byte[] {0x30, (byte) 0x84, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x02, 0x01, 0x00};
        }
        byte[] b = new byte[1 + r.nextInt(4000)];
        r.nextBytes(b);
        return b;
    }

    /** A JSON value for a schema, with mutations in strings and numbers. */
    @SuppressWarnings("unchecked")
    private static String jsonValue(Random r, Map<String, Object> schema, int depth, boolean top) {
        if (depth > 5) {
            return "null";
        }
        int mutate = r.nextInt(100);
        if (!top && mutate < 4) {
            return pick(r, new String[] {"null", "true", "[]", "{}", "\"\"", "1e999", "-0", "NaN", "\"\\u0000\""});
        }
        String type = String.valueOf(schema.getOrDefault("type", schema.containsKey("properties") ? "object" : ""));
        if (type.startsWith("[")) {
            type = type.substring(1, type.indexOf(',') > 0 ? type.indexOf(',') : type.length() - 1).strip();
        }
        if (schema.get("enum") instanceof List<?> values && !values.isEmpty() && mutate > 10) {
            return quote(String.valueOf(values.get(r.nextInt(values.size()))));
        }
        for (String alt : List.of("oneOf", "anyOf", "allOf")) {
            if (schema.get(alt) instanceof List<?> l && !l.isEmpty()) {
                return jsonValue(r, (Map<String, Object>) l.get(r.nextInt(l.size())), depth + 1, false);
            }
        }
        switch (type) {
            case "object" -> {
                Map<String, Object> props = (Map<String, Object>) schema.getOrDefault("properties", Map.of());
                List<?> required = (List<?>) schema.getOrDefault("required", List.of());
                StringBuilder s = new StringBuilder("{");
                for (Map.Entry<String, Object> p : props.entrySet()) {
                    if (required.contains(p.getKey()) ? r.nextInt(100) < 95 : r.nextInt(100) < 50) {
                        s.append(s.length() > 1 ? "," : "").append(quote(p.getKey())).append(':')
                                .append(jsonValue(r, (Map<String, Object>) p.getValue(), depth + 1, false));
                    }
                }
                if (r.nextInt(100) < 5) {
                    s.append(s.length() > 1 ? "," : "").append("\"unknownField\":1");
                }
                return s.append('}').toString();
            }
            case "array" -> {
                Map<String, Object> items = (Map<String, Object>) schema.getOrDefault("items", Map.of());
                int n = r.nextInt(100) < 3 ? 200 + r.nextInt(20_000) : r.nextInt(3);
                StringBuilder s = new StringBuilder("[");
                for (int i = 0; i < n; i++) {
                    s.append(i > 0 ? "," : "").append(jsonValue(r, items, depth + 1, false));
                }
                return s.append(']').toString();
            }
            case "integer", "number" -> {
                return pick(r, new String[] {"1", "0", "-1", "100", "2147483648", "-2147483649", "9223372036854775808",
                    "1e400", "1.5", "99999999999999999999999999999", "\"1\"", "365", "10000", "10001"});
            }
            case "boolean" -> {
                return pick(r, new String[] {"true", "false", "\"true\"", "0"});
            }
            default -> {
                String format = String.valueOf(schema.get("format"));
                if (mutate < 25) {
                    return pick(r, new String[] {"\"a\\u0000b\"", "\"\\u0000\"", "\"+999999999-12-31T23:59:59Z\"",
                        "\"-999999999-01-01T00:00:00Z\"", "\"" + "x".repeat(70_000) + "\"", "\"\\ud800\"", "\"%zz\"",
                        "\"\\\\\"", "\"a\\nb\"", "\"P99999999999D\"", "\"-1s\"", "\"9999999999d\"", "\"é\"",
                        "\"http://169.254.169.254/\"", "\"file:///etc/passwd\"", "\"\"", "\" \""});
                }
                return switch (format) {
                    case "date-time" -> quote("2030-01-01T00:00:00Z");
                    case "uri" -> quote("http://127.0.0.1:9/hook");
                    default -> quote(pick(r, new String[] {"device-" + r.nextInt(1000), "device", "ADMIN",
                        "AUDITOR", "keyCompromise", "certificate.issued", "30d", "PT1H", "-----BEGIN CERTIFICATE-----"}));
                };
            }
        }
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String randomToken(Random r) {
        byte[] b = new byte[32];
        r.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static <T> T pick(Random r, T[] values) {
        return values[r.nextInt(values.length)];
    }

    private static <T> T pick(Random r, List<T> values) {
        return values.get(r.nextInt(values.size()));
    }

    // ---- sending and judging

    /**
     * Sends a request over a fresh connection and reads the whole response: with {@code
     * Connection: close}, or, for a keep-alive request, followed by a well-formed {@code GET}
     * of {@link #PROBE_TARGET} on the same connection, whose answer is read too.
     */
    public Result send(Request q) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            head.write((q.method() + " " + q.target() + " HTTP/1.1\r\n").getBytes(StandardCharsets.UTF_8));
            for (String h : q.headers()) {
                head.write((h + "\r\n").getBytes(StandardCharsets.UTF_8));
            }
            head.write(((q.chunked() ? "" : "Content-Length: " + q.body().length + "\r\n")
                    + (q.keepAlive() ? "" : "Connection: close\r\n") + "\r\n").getBytes(StandardCharsets.US_ASCII));
            OutputStream out = s.getOutputStream();
            out.write(head.toByteArray());
            try {
                out.write(q.body());
                out.flush();
            } catch (IOException e) {
                // The server may answer (and close) before reading a body it refuses.
            }
            if (!q.keepAlive()) {
                return parse(q, readAll(s.getInputStream()));
            }
            java.io.BufferedInputStream in = new java.io.BufferedInputStream(s.getInputStream());
            byte[] first;
            try {
                first = readOne(in);
            } catch (RuntimeException e) {
                return new Result(q, -1, null, "response framing cannot be read: " + e);
            }
            if (first == null) {
                return new Result(q, -1, null, "the connection closed without a response");
            }
            Result result = parse(q, first);
            if (result.status() < 0 || closes(first)) {
                return result;
            }
            try {
                out.write(("GET " + PROBE_TARGET + " HTTP/1.1\r\nHost: " + host + ":" + port
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
            } catch (IOException e) {
                return result; // closed by the server after its answer: allowed (RFC 9112 9.6)
            }
            byte[] second;
            try {
                second = readAll(in);
            } catch (IOException e) {
                second = new byte[0];
            }
            int probe = second.length == 0 ? 0 : parse(q, second).status();
            return new Result(q, result.status(), result.contentType(), result.body(), probe);
        } catch (IOException e) {
            return new Result(q, -1, null, e.toString());
        }
    }

    /** Whether a response says the server closes the connection after it. */
    private static boolean closes(byte[] response) {
        String text = new String(response, StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        return end >= 0 && text.substring(0, end).toLowerCase(Locale.ROOT).contains("\r\nconnection: close");
    }

    /**
     * One response (interim 1xx answers included) read by its framing: Content-Length, chunked,
     * or until the connection closes; null when the connection closed before any byte.
     */
    private static byte[] readOne(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String headers = readHead(in, out);
            if (headers == null) {
                return out.size() == 0 ? null : out.toByteArray();
            }
            if (!headers.startsWith("HTTP/1.1 ") || headers.length() < 12) {
                out.write(readAll(in));
                return out.toByteArray(); // not HTTP: parse() says so
            }
            int status = Integer.parseInt(headers.substring(9, 12));
            if (status >= 100 && status < 200) {
                continue;
            }
            String lower = headers.toLowerCase(Locale.ROOT);
            java.util.regex.Matcher length = java.util.regex.Pattern.compile("\r\ncontent-length: *([0-9]+)")
                    .matcher(lower);
            if (status == 204 || status == 304) {
                return out.toByteArray();
            } else if (lower.contains("\r\ntransfer-encoding: chunked")) {
                while (true) {
                    String line = readLine(in, out);
                    int semi = line.indexOf(';');
                    long n = Long.parseLong((semi >= 0 ? line.substring(0, semi) : line).strip(), 16);
                    if (n == 0) {
                        while (!readLine(in, out).isEmpty()) {
                            // trailer fields
                        }
                        return out.toByteArray();
                    }
                    out.write(in.readNBytes((int) n));
                    readLine(in, out);
                }
            } else if (length.find()) {
                out.write(in.readNBytes(Integer.parseInt(length.group(1))));
                return out.toByteArray();
            } else {
                out.write(readAll(in));
                return out.toByteArray();
            }
        }
    }

    /** Reads a response's head into {@code out}; returns it, or null at the end of the stream. */
    private static String readHead(InputStream in, ByteArrayOutputStream out) throws IOException {
        StringBuilder head = new StringBuilder();
        while (true) {
            String line = readLine(in, out);
            if (line == null) {
                return null;
            }
            if (line.isEmpty()) {
                return head.toString();
            }
            head.append(head.length() == 0 ? "" : "\r\n").append(line);
        }
    }

    private static String readLine(InputStream in, ByteArrayOutputStream out) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int c; (c = in.read()) >= 0;) {
            out.write(c);
            if (c == '\n') {
                return line.toString().endsWith("\r") ? line.substring(0, line.length() - 1) : line.toString();
            }
            line.append((char) c);
        }
        return line.length() == 0 ? null : line.toString();
    }

    private static byte[] readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) >= 0;) {
                out.write(buf, 0, n);
            }
        } catch (java.net.SocketException e) {
            if (out.size() == 0) {
                throw e;
            }
        }
        return out.toByteArray();
    }

    private static Result parse(Request q, byte[] response) {
        String text = new String(response, StandardCharsets.ISO_8859_1);
        while (text.startsWith("HTTP/1.1 1") && text.indexOf("\r\n\r\n") > 0) {
            text = text.substring(text.indexOf("\r\n\r\n") + 4); // an interim 1xx (100 Continue)
        }
        int end = text.indexOf("\r\n\r\n");
        if (!text.startsWith("HTTP/1.1 ") || end < 0) {
            return new Result(q, -1, null, "unparseable response: " + printable(response));
        }
        String[] lines = text.substring(0, end).split("\r\n");
        int status = Integer.parseInt(lines[0].substring(9, 12));
        String type = null;
        for (String line : lines) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-type:")) {
                type = line.substring("content-type:".length()).strip();
            }
        }
        String body = text.substring(end + 4);
        return new Result(q, status, type, body.length() > 400 ? body.substring(0, 400) + "..." : body);
    }

    /** Why this result is a failure, or null when it is fine. */
    static String judge(Result r) {
        Request q = r.request();
        if (r.status() < 0) {
            return "no HTTP response (" + r.body() + ")";
        }
        if (r.status() >= 500) {
            return "status " + r.status();
        }
        String type = r.contentType() == null ? "" : r.contentType().toLowerCase(Locale.ROOT);
        boolean ocspAnswer = type.startsWith("application/ocsp-response");
        if (q.ocsp() && !ocspAnswer) {
            return "OCSP request not answered in OCSP (status " + r.status() + ", " + r.contentType() + ")";
        }
        if (r.status() >= 400 && !ocspAnswer && !type.startsWith("application/problem+json")) {
            return "error " + r.status() + " is not problem+json (" + r.contentType() + ")";
        }
        if (q.keepAlive() && q.pipelined()) {
            // The bytes after the message are the next request: the answer after the first is theirs.
            if (r.probeStatus() != 0 && r.probeStatus() != 400) {
                return "the bytes after the last chunk (the next request on the connection) got " + r.probeStatus()
                        + " instead of 400";
            }
        } else if (q.keepAlive() && r.probeStatus() != 0 && r.probeStatus() != 200) {
            return "the request after it on the connection got " + r.probeStatus() + " instead of 200 (the body was "
                    + "framed wrongly)";
        }
        return null;
    }

    /** Sends requests {@code 0..count-1} on {@code threads} connections at a time. */
    public Summary run(long count, int threads, int maxFailuresShown) throws InterruptedException {
        Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        AtomicLong failureCount = new AtomicLong();
        AtomicLong chunked = new AtomicLong();
        AtomicLong keptAlive = new AtomicLong();
        AtomicLong followed = new AtomicLong();
        AtomicLong next = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        for (int t = 0; t < threads; t++) {
            pool.execute(() -> {
                for (long i; (i = next.getAndIncrement()) < count;) {
                    Result res = send(request(i));
                    statuses.computeIfAbsent(res.status(), k -> new AtomicLong()).incrementAndGet();
                    chunked.addAndGet(res.request().chunked() ? 1 : 0);
                    keptAlive.addAndGet(res.request().keepAlive() ? 1 : 0);
                    followed.addAndGet(res.probeStatus() == 200 ? 1 : 0);
                    String why = judge(res);
                    if (why != null && failureCount.incrementAndGet() <= maxFailuresShown) {
                        failures.add(why + ": " + res.request().describe() + " -> " + res.contentType() + " "
                                + printable(res.body().getBytes(StandardCharsets.ISO_8859_1)));
                    }
                }
            });
        }
        pool.shutdown();
        pool.awaitTermination(365, TimeUnit.DAYS);
        SortedMap<Integer, Long> histogram = new TreeMap<>();
        statuses.forEach((k, v) -> histogram.put(k, v.get()));
        return new Summary(seed, count, histogram, List.copyOf(failures), failureCount.get(), chunked.get(),
                keptAlive.get(), followed.get());
    }

    static String printable(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') {
                s.append((char) c);
            } else {
                s.append(String.format("\\x%02x", c));
            }
        }
        return s.toString();
    }

    /** {@code --port P --admin KEY [--host H] [--count N] [--seed S] [--threads T] [--spec openapi.yaml]}. */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        long seed = Long.parseLong(a.getOrDefault("seed", String.valueOf(System.nanoTime())));
        long count = Long.parseLong(a.getOrDefault("count", "1000000"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "4"));
        HttpFuzzer fuzzer = new HttpFuzzer(Path.of(a.getOrDefault("spec", "openapi.yaml")),
                a.getOrDefault("host", "127.0.0.1"), Integer.parseInt(a.get("port")), a.get("admin"), seed);
        if (a.containsKey("index")) {
            Request q = fuzzer.request(Long.parseLong(a.get("index")));
            Result r = fuzzer.send(q);
            System.out.println(q.describe() + "\n-> " + r.status() + " " + r.contentType() + " " + r.body());
            return;
        }
        System.out.println("fuzzing " + fuzzer.operations.size() + " operations: count=" + count + " seed=" + seed
                + " threads=" + threads);
        long start = System.nanoTime();
        Summary s = fuzzer.run(count, threads, 50);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.print(s.report());
        System.out.printf(Locale.ROOT, "%.1f s, %.0f requests/s%n", seconds, count / seconds);
        System.exit(s.failureCount() == 0 ? 0 : 1);
    }
}
