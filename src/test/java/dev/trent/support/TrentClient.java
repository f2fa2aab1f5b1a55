package dev.trent.support;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** A real HTTP client for Trent's API, as a device or an operator would use it. */
public final class TrentClient {

    public static final JsonMapper JSON = JsonMapper.builder().build();

    private final HttpClient http;
    private final String base;
    private java.time.Duration timeout;

    public TrentClient(int port) {
        this.base = "http://localhost:" + port;
        this.http = HttpClient.newHttpClient();
    }

    private TrentClient(String base, HttpClient http) {
        this.base = base;
        this.http = http;
    }

    /** A client for Trent's HTTPS listener on {@code tlsPort} that trusts {@code root} only. */
    public static TrentClient https(int tlsPort, java.security.cert.X509Certificate root) {
        return new TrentClient("https://localhost:" + tlsPort, HttpClient.newBuilder()
                .sslContext(TestTls.context(root)).build());
    }

    public String base() {
        return base;
    }

    /** This client with a limit on each request's wait for its response. */
    public TrentClient withTimeout(java.time.Duration requestTimeout) {
        TrentClient c = new TrentClient(base, http);
        c.timeout = requestTimeout;
        return c;
    }

    /** A response with its body as bytes and helpers to read it. */
    public record Response(int status, java.net.http.HttpHeaders headers, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public JsonNode json() {
            return JSON.readTree(body);
        }

        public String header(String name) {
            return headers.firstValue(name).orElse(null);
        }

        public String contentType() {
            return header("Content-Type");
        }

        public List<X509Certificate> certificates() {
            try {
                CertificateFactory cf = CertificateFactory.getInstance("X.509");
                List<X509Certificate> out = new ArrayList<>();
                for (java.security.cert.Certificate c : cf.generateCertificates(new ByteArrayInputStream(body))) {
                    out.add((X509Certificate) c);
                }
                return out;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public String toString() {
            return status + " " + headers.map() + " " + text();
        }
    }

    public Response send(String method, String path, Map<String, String> headers, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        headers.forEach(b::header);
        if (timeout != null) {
            b.timeout(timeout);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        try {
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), r.headers(), r.body());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public Response get(String path, String apiKey, String accept) {
        Map<String, String> h = new java.util.HashMap<>();
        if (apiKey != null) {
            h.put("Authorization", "Bearer " + apiKey);
        }
        if (accept != null) {
            h.put("Accept", accept);
        }
        return send("GET", path, h, null);
    }

    public Response postJson(String path, String apiKey, Object body) {
        return postJson(path, apiKey, body, "application/json");
    }

    public Response postJson(String path, String apiKey, Object body, String accept) {
        Map<String, String> h = new java.util.HashMap<>();
        h.put("Content-Type", "application/json");
        h.put("Accept", accept);
        if (apiKey != null) {
            h.put("Authorization", "Bearer " + apiKey);
        }
        return send("POST", path, h, JSON.writeValueAsBytes(body));
    }

    /** Creates an enrollment token and returns the secret. */
    public String token(String apiKey, String deviceId, String profile, List<String> dnsNames) {
        Map<String, Object> body = new java.util.HashMap<>();
        body.put("deviceId", deviceId);
        body.put("profile", profile);
        if (dnsNames != null) {
            body.put("dnsNames", dnsNames);
        }
        Response r = postJson("/api/v1/enrollment-tokens", apiKey, body);
        if (r.status() != 201) {
            throw new IllegalStateException("token creation failed: " + r);
        }
        return r.json().get("token").asText();
    }

    public Response enroll(String token, String contentType, byte[] csr, String accept) {
        Map<String, String> h = new java.util.HashMap<>();
        if (token != null) {
            h.put("Authorization", "Bearer " + token);
        }
        if (contentType != null) {
            h.put("Content-Type", contentType);
        }
        if (accept != null) {
            h.put("Accept", accept);
        }
        return send("POST", "/api/v1/enroll", h, csr);
    }
}
