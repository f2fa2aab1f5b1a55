package dev.trent.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.trent.support.Browser;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/**
 * The operator console in a real browser (Debian's headless chromium via Selenium) against a
 * running Trent: login, sessions, roles, CSRF, and each page's essential action, checked against
 * what the API, the database and the OCSP responder then say. Takes the screenshots that
 * docs/console.md shows. Runs once (not in the PKCS#11 suite: the console adds nothing per signer).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "trent.data-dir=target/it-data/${random.uuid}",
    "trent.tls.port=0",
    "trent.bootstrap-admin-token=" + ConsoleIT.ADMIN_KEY,
    "trent.audit.failure-burst=3"
})
class ConsoleIT {

    static final String ADMIN_KEY = "trent_ak_console-admin-key-0123456789abcdefghij";
    static final Path DOCS = Path.of("docs");

    @LocalServerPort
    int port;

    @Autowired
    JdbcTemplate jdbc;

    @BeforeAll
    static void chromium() {
        Browser.assumeAvailable();
    }

    TrentClient http() {
        return new TrentClient(port);
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    String enroll(String device) {
        TrentClient.Response r = http().enroll(http().token(ADMIN_KEY, device, "device", null),
                "application/x-pem-file", TestCsrs.ecP256(device).pem().getBytes(), "application/json");
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("serial").asText();
    }

    String apiKey(String role) {
        TrentClient.Response r = http().postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", unique(role.toLowerCase(java.util.Locale.ROOT)), "role", role));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("key").asText();
    }

    static Browser login(Browser b, String key) {
        b.go("/console/login").fill("#apiKey", key).click("#login");
        return b;
    }

    /** The CSRF token of the page's first form (what a forger who can read the page would send). */
    static String csrf(Browser b) {
        return b.find("input[name=_csrf]").getAttribute("value");
    }

    @Test
    void loginWhenAdminKeyThenOverviewAndLogoutEndsTheSession() throws Exception {
        enroll(unique("overview"));
        try (Browser b = Browser.open(port)) {
            b.go("/console/");
            assertThat(b.path()).as("an anonymous visit is sent to the login page").isEqualTo("/console/login");

            login(b, ADMIN_KEY);

            assertThat(b.path()).isEqualTo("/console/");
            assertThat(b.text("h1")).isEqualTo("Overview");
            assertThat(Long.parseLong(b.text("#total-issued"))).isPositive();
            assertThat(b.text("#by-profile")).contains("device");
            assertThat(b.text("#signer")).isEqualTo("UP");
            assertThat(b.text("#issuers")).contains("ACTIVE");
            assertThat(b.all("svg.chart rect.issued")).hasSize(OverviewController.CHART_DAYS);
            assertThat(b.text("header")).contains("bootstrap-admin", "ADMIN");
            b.screenshot(DOCS.resolve("console-overview.png"));
            String session = b.sessionCookie();
            assertThat(session).isNotNull();

            b.click("#logout");

            assertThat(b.path()).isEqualTo("/console/login");
            assertThat(b.pageText()).contains("You are logged out.");
            HttpResponse<String> old = forged(b, session, "GET", "/console/", null);
            assertThat(old.statusCode()).as("the old session no longer works").isEqualTo(302);
            assertThat(old.headers().firstValue("Location").orElseThrow()).endsWith("/console/login");
        }
    }

    /** A request with the given session cookie, whatever the browser now holds. */
    HttpResponse<String> forged(Browser b, String session, String method, String path, String form) throws Exception {
        java.net.http.HttpRequest.Builder r = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + port + path)).header("Cookie", "JSESSIONID=" + session);
        if (form != null) {
            r.header("Content-Type", "application/x-www-form-urlencoded");
        }
        r.method(method, form == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
                : java.net.http.HttpRequest.BodyPublishers.ofString(form));
        return java.net.http.HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void loginWhenKeyWrongThenRefusedAndCountedTowardTheFailureBurst() throws Exception {
        long before = bursts();
        try (Browser b = Browser.open(port)) {
            for (int i = 0; i < 3; i++) {
                login(b, "trent_ak_not-a-key-" + i);
                assertThat(b.path()).isEqualTo("/console/login");
                assertThat(b.pageText()).contains("That API key is unknown or revoked.");
            }
            b.screenshot(DOCS.resolve("console-login.png"));
            b.go("/console/");
            assertThat(b.path()).isEqualTo("/console/login");
        }
        assertThat(bursts()).as("the third failure in a minute wrote one burst event").isEqualTo(before + 1);
    }

    long bursts() {
        return jdbc.queryForObject("select count(*) from audit_event where action = 'auth.failure-burst' "
                + "and details->>'credential' = 'api-key'", Long.class);
    }

    @Test
    void pagesWhenServedThenSecurityHeadersAndStrictSessionCookie() throws Exception {
        try (Browser b = Browser.open(port)) {
            HttpResponse<String> login = b.request("GET", "/console/login", null);
            assertThat(login.statusCode()).isEqualTo(200);
            String csp = login.headers().firstValue("Content-Security-Policy").orElseThrow();
            assertThat(csp).contains("script-src 'none'", "frame-ancestors 'none'");
            assertThat(login.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
            assertThat(login.headers().firstValue("X-Frame-Options")).hasValue("DENY");
            assertThat(login.body()).doesNotContain("<script");
            String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
            assertThat(cookie).contains("HttpOnly", "SameSite=Strict", "Path=/console");

            login(b, ADMIN_KEY);
            var c = b.driver().manage().getCookieNamed("JSESSIONID");
            assertThat(c.isHttpOnly()).isTrue();
            assertThat(c.getSameSite()).isEqualTo("Strict");
        }
    }

    @Test
    void logoutWhenCsrfTokenMissingThenForbidden() throws Exception {
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);

            HttpResponse<String> r = b.request("POST", "/console/logout", "");

            assertThat(r.statusCode()).isEqualTo(403);
            b.go("/console/");
            assertThat(b.path()).as("still logged in").isEqualTo("/console/");
        }
    }

    @Test
    void apiWhenConsoleSessionCookieSentThenStillNeedsAnApiKey() throws Exception {
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            HttpResponse<String> r = forged(b, b.sessionCookie(), "GET", "/api/v1/certificates", null);
            assertThat(r.statusCode()).as("the REST API stays stateless").isEqualTo(401);
        }
    }
}
