package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bouncycastle.cert.ocsp.OCSPResp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.context.TestPropertySource;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * Each kind of input that once made Trent answer 5xx or a non-problem+json error, sent over a
 * raw socket as a client would send it: undecodable query strings and form bodies, broken
 * Content-Types, NUL in text, out-of-range pages and timestamps, an empty Accept, Tomcat's own
 * 400s, firewall rejections, TRACE and unknown methods, lenient numbers, and slow clients. Short
 * request deadlines (2 s headers, 3 s body) so that the slow-client tests finish quickly.
 */
@ExtendWith(OutputCaptureExtension.class)
@TestPropertySource(properties = {"trent.http.header-deadline=2s", "trent.http.body-deadline=3s"})
class ClientErrorsIT extends IntegrationTest {

    private static final String AUTH = "Authorization: Bearer " + ADMIN_KEY;

    private HttpFuzzer raw;

    @BeforeEach
    void rawClient() throws IOException {
        raw = new HttpFuzzer(Path.of("openapi.yaml"), "localhost", port, ADMIN_KEY, 0);
    }

    private HttpFuzzer.Result send(String method, String target, String body, String... headers) {
        List<String> hs = new ArrayList<>(List.of("Host: localhost:" + port));
        hs.addAll(List.of(headers));
        return raw.send(new HttpFuzzer.Request(0, method, target, hs, body.getBytes(StandardCharsets.UTF_8), false,
                false, false, false));
    }

    /** problem+json with this status and type, whose detail says something. */
    private static JsonNode assertProblem(HttpFuzzer.Result r, int status, String type) {
        assertThat(r.status()).as(r.request().describe() + " -> " + r.body()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        String body = r.body().startsWith("{") ? r.body() : r.body().substring(r.body().indexOf('{'),
                r.body().lastIndexOf('}') + 1); // chunked
        JsonNode json = TrentClient.JSON.readTree(body);
        assertThat(json.get("type").asText()).isEqualTo(ProblemException.TYPE_BASE + type);
        assertThat(json.get("status").asInt()).isEqualTo(status);
        assertThat(json.get("detail").asText()).isNotBlank();
        return json;
    }

    @Test
    void queryStringWhenEscapeBadOrNotUtf8Then400() {
        assertProblem(send("GET", "/api/v1/audit?action=%zz", "", AUTH), 400, "invalid-request");
        JsonNode p = assertProblem(send("GET", "/api/v1/audit?action=%ff%fe", "", AUTH), 400, "invalid-request");
        assertThat(p.get("detail").asText()).contains("query string");
        assertProblem(send("GET", "/api/v1/certificates?deviceId=%c3%28", "", AUTH), 400, "invalid-request");
    }

    @Test
    void formBodyWhenUndecodableThen4xxAndNeverLogged(CapturedOutput output) {
        String secret = "trent_et_formsecret" + System.nanoTime();
        for (String method : List.of("POST", "PUT", "DELETE", "PATCH")) {
            HttpFuzzer.Result r = send(method, "/api/v1/api-keys/5", "token=" + secret + "%zz&%ff=1", AUTH,
                    "Content-Type: application/x-www-form-urlencoded");
            assertThat(r.status()).as(method + " " + r.body()).isBetween(400, 499);
            assertThat(r.contentType()).startsWith("application/problem+json");
        }
        assertThat(output.getAll()).doesNotContain(secret);
    }

    @Test
    void contentTypeWhenWildcardBrokenOrUnknownCharsetThen415() {
        String json = "{\"name\":\"x\",\"role\":\"AUDITOR\"}";
        for (String type : List.of("*/*", "application/*+json", "application/json; charset=x", ";",
                "multipart/form-data", "application/json; a=\"unterminated")) {
            assertProblem(send("POST", "/api/v1/api-keys", json, AUTH, "Content-Type: " + type), 415,
                    "unsupported-media-type");
        }
        assertProblem(send("POST", "/.well-known/est/simpleenroll", "MIIB", "Content-Type: application/pkcs10; charset=x"),
                415, "unsupported-media-type");
    }

    @Test
    void ocspWhenContentTypeBrokenThenMalformedRequest() throws Exception {
        HttpFuzzer.Result r = send("POST", "/ocsp", "x", "Content-Type: ;");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("application/ocsp-response");
        TrentClient.Response viaClient = client().send("POST", "/ocsp", Map.of("Content-Type", ";"), new byte[] {1});
        assertThat(new OCSPResp(viaClient.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        // Tomcat's own 400 for a bad escape under /ocsp is an OCSP answer too.
        HttpFuzzer.Result bad = send("GET", "/ocsp/%zz", "");
        assertThat(bad.contentType()).isEqualTo("application/ocsp-response");
        // A path parameter with a broken escape (the 1,000,000-request fuzz run, seed 12): Spring
        // failed to decode it before any of Trent's code ran, a 500 in JSON.
        for (String target : List.of("/ocsp;jsessionid=1%api/v1/api-keys", "/ocsp;%zzapi/v1/api-keys", "/ocsp;x")) {
            HttpFuzzer.Result semicolon = send("POST", target, "x", "Content-Type: application/ocsp-request");
            assertThat(semicolon.status()).as(target).isEqualTo(200);
            assertThat(semicolon.contentType()).as(target).isEqualTo("application/ocsp-response");
            assertThat(semicolon.body()).as(target).isEqualTo("0\u0003\n\u0001\u0001"); // malformedRequest
        }
    }

    @Test
    void queryParameterNameWithLineBreakThen400NotEchoed() {
        // The firewall checks parameter names when they are first read (here inside the actuator).
        for (String target : List.of("/actuator/health/liveness?%0aapi/v1/api-keys", "/actuator/health/l?iveness%0ax")) {
            JsonNode p = assertProblem(send("GET", target, "", AUTH), 400, "invalid-request");
            assertThat(p.get("detail").asText()).as(target).contains("does not accept").doesNotContain("api/v1");
        }
    }

    @Test
    void textWhenItHoldsNulThen400AndWarnedWithTheSqlStateNotTheValue(CapturedOutput output) throws Exception {
        // The WARN shares the client-error line limit (one-second windows of monotonic time): start
        // in a fresh window, so that the lines earlier tests wrote cannot have used it up.
        Thread.sleep(1100);
        JsonNode p = assertProblem(send("POST", "/api/v1/api-keys", "{\"name\":\"nul-\\u0000-value\",\"role\":\"AUDITOR\"}",
                AUTH, "Content-Type: application/json"), 400, "invalid-request");
        assertThat(p.get("detail").asText()).contains("NUL");
        // Maybe Trent's own bug rather than the client's: a WARN with the SQL state and the code that sent it.
        String warned = output.getAll().lines().filter(l -> l.contains("PostgreSQL refused a value (SQLSTATE 22"))
                .findFirst().orElseThrow(() -> new AssertionError("no WARN line for the refused value"));
        assertThat(warned).contains("WARN").contains("sent by dev.trent.").contains("/api/v1/api-keys")
                .doesNotContain("nul-").doesNotContain("0x00");
        assertProblem(send("GET", "/api/v1/certificates?deviceId=a%00b", "", AUTH), 400, "invalid-request");
        assertProblem(send("GET", "/api/v1/audit?actor=a%00b", "", AUTH), 400, "invalid-request");
    }

    @Test
    void pageWhenOffsetBeyondIntegerThen400() {
        JsonNode p = assertProblem(send("GET", "/api/v1/certificates?page=2147483647&size=50", "", AUTH), 400,
                "invalid-request");
        assertThat(p.get("detail").asText()).contains("page * size");
        assertProblem(send("GET", "/api/v1/webhooks/1/deliveries?page=2147483647&size=50", "", AUTH), 400,
                "invalid-request");
    }

    @Test
    void timestampWhenPostgresCannotStoreItThen400(CapturedOutput output) throws Exception {
        // Beyond what java.sql.Timestamp holds (an ArithmeticException on JDK 25, a wrong instant on
        // JDK 17), and beyond PostgreSQL's range only: both refused before any statement.
        for (String year : List.of("%2B999999999-12-31T23:59:59Z", "%2B300000-01-01T00:00:00Z", "-5000-01-01T00:00:00Z")) {
            JsonNode p = assertProblem(send("GET", "/api/v1/certificates?expiringBefore=" + year, "", AUTH), 400,
                    "invalid-request");
            assertThat(p.get("detail").asText()).isEqualTo("expiringBefore is outside the range of dates Trent can "
                    + "store (years 4713 BC to 294276 AD).");
        }
        assertThat(send("GET", "/api/v1/certificates?expiringBefore=%2B294276-12-31T00:00:00Z", "", AUTH).status())
                .isEqualTo(200);
        if (jdbc.queryForObject("select current_setting('log_min_error_statement')", String.class).equals("panic")) {
            Thread.sleep(300); // PostgreSQL's output reaches the log through a pump thread
            // The embedded server does not copy the refused statement (a client's text) into the log.
            assertThat(output.getAll()).doesNotContain("STATEMENT:");
        }
    }

    @Test
    void prometheusWhenAcceptEmptyThenServedAsWithoutAccept() {
        HttpFuzzer.Result r = send("GET", "/actuator/prometheus", "", AUTH, "Accept: ");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.body()).contains("# HELP");
    }

    @Test
    void tomcatWhenUrlOrHeaderMalformedThenProblemJson() {
        assertProblem(send("GET", "/api/v1/%zz", ""), 400, "invalid-request");
        assertProblem(send("GET", "/api/v1/ca/\u0001chain", ""), 400, "invalid-request");
        assertProblem(send("GET", "/api/v1/ca/chain", "", "X-Big: " + "a".repeat(20_000)), 400, "invalid-request");
        assertProblem(send("GET", "/api/v1/ca/chain", "", "X-Ctl: a\u0001b"), 400, "invalid-request");
        // Tomcat's 501 for a transfer coding it does not implement: a 400 naming it, not "method not supported".
        JsonNode te = assertProblem(send("POST", "/api/v1/enroll", "abc", "Transfer-Encoding: gzip"), 400,
                "invalid-request");
        assertThat(te.get("detail").asText()).contains("Transfer-Encoding gzip is not supported");
    }

    @Test
    void firewallTraceAndUnknownMethodsThenProblemJson() {
        JsonNode p = assertProblem(send("GET", "/api/v1/certificates/%2e%2e", "", AUTH), 400, "invalid-request");
        assertThat(p.get("detail").asText()).contains("rejected");
        assertProblem(send("GET", "/api/v1/ca;x/chain", ""), 400, "invalid-request");
        assertProblem(send("get", "/api/v1/ca/chain", ""), 400, "invalid-request");
        assertProblem(send("TRACE", "/api/v1/ca/chain", ""), 405, "method-not-allowed");
        HttpFuzzer.Result connect = send("CONNECT", "/api/v1/ca/chain", "");
        assertThat(connect.status()).as("a method nobody serves: never 501").isIn(400, 405);
        assertThat(connect.contentType()).startsWith("application/problem+json");
        assertProblem(send("GET", "/actuator/health/nosuchgroup", ""), 404, "not-found");
        assertProblem(send("GET", "/actuator/health/a/b", ""), 404, "not-found");
        assertProblem(send("GET", "/api/v1/ca%2Fchain", ""), 404, "not-found");
    }

    @Test
    void identifierWhenNotPlainDigitsThen400() {
        for (String id : List.of("+1", "%201", "0x1", "1e0", "99999999999999999999")) {
            JsonNode p = assertProblem(send("DELETE", "/api/v1/api-keys/" + id, "", AUTH), 400, "invalid-request");
            assertThat(p.get("detail").asText()).contains("id");
        }
        assertThat(jdbc.queryForObject("select count(*) from api_key where revoked_at is null", Integer.class))
                .as("the bootstrap key (id 1) is still active").isPositive();
        assertProblem(send("GET", "/api/v1/audit?limit=+5", "", AUTH), 400, "invalid-request");
        assertProblem(send("GET", "/api/v1/certificates?page=0x1", "", AUTH), 400, "invalid-request");
        assertProblem(send("GET", "/api/v1/audit?beforeSeq=1.0", "", AUTH), 400, "invalid-request");
        // Empty values: a defaulted number takes its default, an optional one is absent.
        assertThat(send("GET", "/api/v1/certificates?page=&size=", "", AUTH).status()).isEqualTo(200);
        assertThat(send("GET", "/api/v1/audit?beforeSeq=&limit=", "", AUTH).status()).isEqualTo(200);
        assertThat(send("GET", "/api/v1/audit?beforeSeq=5&limit=5", "", AUTH).status()).isEqualTo(200);
    }

    @Test
    void clientErrorsWhenInABurstThenOneLineEachRateLimitedWithoutStackTraces(CapturedOutput output) throws Exception {
        // Lines that earlier tests' errors left uncounted are reported on the next line written:
        // flush them with one error in a fresh window of the limiter, and count from after it.
        Thread.sleep(1100);
        int before = output.getAll().length();
        send("GET", "/api/v1/audit?action=%zzfirst", "", AUTH);
        for (int i = 0; i < 100 && !output.getAll().substring(before).contains("Client error "); i++) {
            Thread.sleep(20);
        }
        assertThat(output.getAll().substring(before)).contains("Client error ");
        int skip = output.getAll().length();
        java.util.concurrent.ExecutorService burst = java.util.concurrent.Executors.newFixedThreadPool(8);
        for (int i = 0; i < 40; i++) {
            String query = "%zz" + i;
            burst.submit(() -> send("GET", "/api/v1/audit?action=" + query, "", AUTH));
        }
        burst.shutdown();
        assertThat(burst.awaitTermination(120, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        Thread.sleep(1100); // into the next one-second window of the log limiter
        send("GET", "/api/v1/audit?action=%zzlast", "", AUTH);
        String log = output.getAll().substring(skip);
        List<String> lines = log.lines().filter(l -> l.contains("Client error ")).toList();
        // Every error is accounted for: written, or counted on a later line (the last one, at the latest).
        long counted = lines.stream().map(l -> java.util.regex.Pattern.compile("\\((\\d+) more not logged\\)")
                .matcher(l)).filter(java.util.regex.Matcher::find).mapToLong(m -> Long.parseLong(m.group(1))).sum();
        assertThat(lines.size() + counted).as("lines written plus lines counted").isEqualTo(41);
        // At most 10 lines in each one-second window of the limiter, so at most 20 in any second of the clock.
        // The line's own time, in either console format (plain, or the JSON of structured logging,
        // which another test in this JVM may have switched the shared logging system to).
        java.util.regex.Pattern instant = java.util.regex.Pattern.compile("\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z");
        List<java.time.Instant> times = lines.stream().map(instant::matcher).filter(java.util.regex.Matcher::find)
                .map(m -> java.time.Instant.parse(m.group())).toList();
        assertThat(times).as("a time on every line").hasSameSizeAs(lines);
        for (int i = 0; i + 20 < times.size(); i++) {
            assertThat(java.time.Duration.between(times.get(i), times.get(i + 20))).as("21 lines within a second")
                    .isGreaterThanOrEqualTo(java.time.Duration.ofSeconds(1));
        }
        assertThat(log).doesNotContain("InvalidParameterException").doesNotContain("Unexpected error")
                .doesNotContain("Error parsing HTTP request header");
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void slowClientWhenHeadersDribbleThenClosedAtTheDeadline() throws Exception {
        assertThat(dribble("GET /api/v1/ca/chain HTTP/1.1\r\nHost: x\r\nX-Slow: " + "a".repeat(60) + "\r\n\r\n", ""))
                .as("closed while the headers were still arriving").isTrue();
    }

    @Test
    void slowClientWhenBodyDribblesThenClosedAtTheDeadline() throws Exception {
        assertThat(dribble("POST /api/v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkcs10\r\nAuthorization: Bearer trent_et_x\r\n"
                + "Content-Length: 60\r\n\r\n", "a".repeat(60))).as("closed while the body was still arriving").isTrue();
        assertThat(dribble("POST /ocsp HTTP/1.1\r\nHost: x\r\nContent-Type: application/ocsp-request\r\n"
                + "Content-Length: 60\r\n\r\n", "a".repeat(60))).as("OCSP too").isTrue();
    }

    @Test
    void slowClientWhenRefusedBeforeItsBodyThenTheConnectionClosesAtOnce() throws Exception {
        // Refused before the body is read (no credentials; a wildcard Content-Type): Tomcat would
        // otherwise swallow the declared 100,000 bytes, and the connection outlive the deadline.
        assertThat(refusedThenClosed("POST /api/v1/certificates/1/revoke HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")).startsWith("HTTP/1.1 401");
        assertThat(refusedThenClosed("POST /api/v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: */*\r\n"
                + "Authorization: Bearer trent_et_x\r\nContent-Length: 100000\r\n\r\nM")).startsWith("HTTP/1.1 415");
        // An answer not yet sent when Trent gives up on the body (over 64 KiB): sent as it is, not a 500.
        assertThat(refusedThenClosed("OPTIONS /api/v1/webhooks HTTP/1.1\r\nHost: x\r\n" + AUTH
                + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")).startsWith("HTTP/1.1 200");
    }

    @Test
    void bodyWhenLeftUnreadThenTheAnswerArrivesWholeAndTheConnectionCarriesTheNextRequest() throws Exception {
        // A body the application never reads (a GET with one; a request refused before its body):
        // closing with it unread made the kernel reset the connection, sometimes before the client
        // had read the answer (the 1,000,000-request fuzz run: a 12 KB body on GET /openapi.yaml).
        String body = "x".repeat(30_000);
        for (String head : List.of("GET /openapi.yaml HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
                "POST /api/v1/certificates/1/revoke HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
                "GET /api/v1/ca/chain HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")) {
            try (Socket s = new Socket("localhost", port)) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write((head + "Content-Length: " + body.length() + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                java.io.BufferedInputStream in = new java.io.BufferedInputStream(s.getInputStream());
                String first = readFramed(in); // the whole answer, not cut by a reset
                assertThat(first.substring(0, 12)).as(head).isEqualTo(head.startsWith("GET") ? "HTTP/1.1 200" : "HTTP/1.1 401");
                String headers = first.substring(0, first.indexOf("\r\n\r\n")).toLowerCase(java.util.Locale.ROOT);
                if (head.contains("/ca/chain")) {
                    // A small answer not yet sent when the body was drained: the connection stays open.
                    assertThat(headers).doesNotContain("\r\nconnection: close");
                }
                if (headers.contains("\r\nconnection: close")) {
                    // Answered before the body was read (a large answer; an error): closed, but
                    // cleanly, with the body read first (a reset here could have cut the answer).
                    assertThat(in.read()).as(head).isEqualTo(-1);
                } else {
                    s.getOutputStream().write("GET /actuator/health/liveness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).as(head).startsWith("HTTP/1.1 200");
                }
            }
        }
    }

    /** One response read by its Content-Length (the whole body must arrive). */
    private static String readFramed(java.io.InputStream in) throws IOException {
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new java.io.EOFException("closed within the headers: " + head);
            }
            head.write(b);
        }
        String h = head.toString(StandardCharsets.ISO_8859_1);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)\r\ncontent-length: *([0-9]+)").matcher(h);
        assertThat(m.find()).as("a Content-Length in %s", h).isTrue();
        byte[] rest = in.readNBytes(Integer.parseInt(m.group(1)));
        assertThat(rest).as("the whole body of %s", h).hasSize(Integer.parseInt(m.group(1)));
        return h + new String(rest, StandardCharsets.ISO_8859_1);
    }

    /** The whole answer to {@code request}, after which the server must have closed the connection within 5 s. */
    private String refusedThenClosed(String request) throws IOException {
        // (also used for a request that asks for Connection: close)
        try (Socket s = new Socket("localhost", port)) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            try {
                for (int n; (n = s.getInputStream().read(buffer)) >= 0;) {
                    answer.write(buffer, 0, n);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the connection stayed open after the answer: " + answer);
            } catch (java.net.SocketException reset) {
                // closed by the server with unread input: a reset is a close too
            }
            return answer.toString(StandardCharsets.US_ASCII);
        }
    }

    @Test
    void chunkedBodyWhenMalformedThen400WithoutAStackTrace(CapturedOutput output) throws IOException {
        String answer = refusedThenClosed("POST /api/v1/enroll HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/pkcs10\r\nAuthorization: Bearer trent_et_anything\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
        assertThat(answer).startsWith("HTTP/1.1 400").contains("application/problem+json");
        assertThat(output.getAll()).doesNotContain("Unexpected error").doesNotContain("BadRequestException");
    }

    /**
     * Sends {@code head} (all but its first byte with {@code body} empty) and then the rest a
     * byte every 500 ms (60 bytes: 30 s, far beyond the 2 s and 3 s deadlines); true when the
     * server closes the connection before the last byte.
     */
    private boolean dribble(String head, String body) throws IOException, InterruptedException {
        try (Socket s = new Socket("localhost", port)) {
            s.setSoTimeout(1);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] first = (body.isEmpty() ? head.substring(0, 1) : head).getBytes(StandardCharsets.US_ASCII);
            byte[] rest = (body.isEmpty() ? head.substring(1) : body).getBytes(StandardCharsets.US_ASCII);
            out.write(first);
            out.flush();
            for (byte b : rest) {
                Thread.sleep(500);
                try {
                    out.write(b);
                    out.flush();
                } catch (IOException e) {
                    return true; // reset by the server
                }
                try {
                    if (in.read() < 0) {
                        return true;
                    }
                } catch (SocketTimeoutException e) {
                    // nothing yet: keep dribbling
                } catch (IOException e) {
                    return true;
                }
            }
            return false;
        }
    }
}
