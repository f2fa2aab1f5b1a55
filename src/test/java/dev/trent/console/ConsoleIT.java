package dev.trent.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.security.cert.X509Certificate;
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
    "trent.audit.failure-burst=3",
    // As behind a TLS-terminating proxy on this host: the console refuses a login in clear text
    // (SecureChannel's rule), so the browser's plain HTTP counts as the proxy's.
    "trent.tls.client-cert-header=X-Client-Cert",
    "trent.tls.trusted-proxies=127.0.0.1,::1"
})
class ConsoleIT {

    static final String ADMIN_KEY = "trent_ak_console-admin-key-0123456789abcdefghij";
    /**
     * Where the screenshots go: target/console-screenshots on every run (the working tree stays
     * clean), or the directory named by {@code -Dtrent.console.screenshots=docs} to refresh the
     * committed ones that docs/console.md shows.
     */
    static final Path DOCS = Path.of(System.getProperty("trent.console.screenshots", "target/console-screenshots"));

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
            assertThat(Long.parseLong(b.text("#expiring-7"))).isEqualTo(expiringWithin(7));
            assertThat(Long.parseLong(b.text("#expiring-30"))).as("Trent's own HTTPS certificate lives 30 days")
                    .isEqualTo(expiringWithin(30)).isPositive();
            var issuerRow = b.all("#issuers tbody tr").get(0).findElements(org.openqa.selenium.By.tagName("td"));
            String activeIssuer = jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
            assertThat(issuerRow.get(0).getText()).contains(activeIssuer);
            assertThat(jdbc.queryForObject("select count(*) from crl where issuer_id = ? and crl_number = ?",
                    Integer.class, activeIssuer, Long.parseLong(issuerRow.get(2).getText()))).as("its CRL number")
                    .isEqualTo(1);
            assertThat(issuerRow.get(3).getText()).as("the CRL's age").endsWith(" min");
            assertThat(issuerRow.get(4).getText()).as("its next update").matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
            java.util.List<Long> seqs = b.all("#events tbody tr td:first-child").stream()
                    .map(e -> Long.parseLong(e.getText())).toList();
            assertThat(seqs).as("the latest audit events, newest first").isNotEmpty()
                    .isSortedAccordingTo(java.util.Comparator.reverseOrder());
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

    /** Valid certificates that expire within {@code days} days, as PostgreSQL counts them now. */
    long expiringWithin(int days) {
        return jdbc.queryForObject("select count(*) from certificate where status = 'ISSUED' and not_after >= now() "
                + "and not_after < now() + make_interval(days => ?)", Long.class, days);
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
            assertThat(cookie).startsWith(ConsoleSecurityConfiguration.CSRF_COOKIE + "=")
                    .contains("HttpOnly", "SameSite=Strict", "Path=/console");

            login(b, ADMIN_KEY);
            var c = b.driver().manage().getCookieNamed("JSESSIONID");
            assertThat(c.isHttpOnly()).isTrue();
            assertThat(c.getSameSite()).isEqualTo("Strict");
        }
    }

    @Test
    void loginPageWhenVisitedAnonymouslyThenNoSessionIsCreated() throws Exception {
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        for (String path : java.util.List.of("/console/login", "/console/login", "/console/login?error", "/console/",
                "/console/certificates", "/console/static/console.css")) {
            HttpResponse<String> r = client.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://localhost:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isIn(200, 302, 404);
            assertThat(r.headers().allValues("Set-Cookie")).as(path)
                    .noneMatch(c -> c.startsWith("JSESSIONID"));
        }
    }

    @Test
    void loginWhenBehindTheTrustedProxyThenSessionCookieSecureAndHsts() throws Exception {
        java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
        HttpResponse<String> page = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + port + "/console/login")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.headers().firstValue("Strict-Transport-Security")).isPresent();
        String csrfCookie = page.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(csrfCookie).contains("Secure");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"")
                .matcher(page.body());
        assertThat(m.find()).isTrue();
        HttpResponse<String> login = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + port + "/console/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Cookie", csrfCookie.substring(0, csrfCookie.indexOf(';')))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("apiKey=" + ADMIN_KEY + "&_csrf="
                        + java.net.URLEncoder.encode(m.group(1), java.nio.charset.StandardCharsets.UTF_8)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(login.statusCode()).isEqualTo(302);
        assertThat(login.headers().firstValue("Location").orElseThrow()).endsWith("/console/");
        java.util.List<String> sessions = login.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith("JSESSIONID=")).toList();
        assertThat(sessions).isNotEmpty();
        assertThat(sessions.get(sessions.size() - 1)).as("the copy a browser keeps")
                .contains("Secure", "HttpOnly", "SameSite=Strict", "Path=/console");
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

    /** The OCSP answer for {@code serial}: "good", "revoked: <reason>" or "unknown", signature checked. */
    String ocsp(String serial) throws Exception {
        java.security.cert.X509Certificate issuer = http().get("/api/v1/ca/chain", null, null).certificates().get(0);
        org.bouncycastle.cert.ocsp.CertificateID id = new org.bouncycastle.cert.ocsp.CertificateID(
                new org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder().build()
                        .get(org.bouncycastle.cert.ocsp.CertificateID.HASH_SHA1),
                new org.bouncycastle.cert.X509CertificateHolder(issuer.getEncoded()), new java.math.BigInteger(serial, 16));
        byte[] req = new org.bouncycastle.cert.ocsp.OCSPReqBuilder().addRequest(id).build().getEncoded();
        TrentClient.Response r = http().send("POST", "/ocsp", Map.of("Content-Type", "application/ocsp-request"), req);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        org.bouncycastle.cert.ocsp.BasicOCSPResp basic = (org.bouncycastle.cert.ocsp.BasicOCSPResp)
                new org.bouncycastle.cert.ocsp.OCSPResp(r.body()).getResponseObject();
        assertThat(basic.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
                .build(basic.getCerts()[0]))).isTrue();
        Object status = basic.getResponses()[0].getCertStatus();
        if (status == null) {
            return "good";
        }
        if (status instanceof org.bouncycastle.cert.ocsp.RevokedStatus rs) {
            return "revoked: " + (rs.hasRevocationReason() ? rs.getRevocationReason() : "none");
        }
        return "unknown";
    }

    String status(String serial) {
        return jdbc.queryForObject("select status || coalesce(':' || revocation_reason, '') from certificate "
                + "where serial = ?", String.class, serial);
    }

    @Test
    void revokeWhenOperatorFindsTheDeviceThenRevokedAndOcspSaysSo() throws Exception {
        String prefix = unique("find");
        String serial = enroll(prefix + "-a");
        enroll(prefix + "-b");
        enroll(unique("other"));
        assertThat(ocsp(serial)).isEqualTo("good");
        String operatorKey = apiKey("OPERATOR");
        try (Browser b = Browser.open(port)) {
            login(b, operatorKey);
            b.go("/console/certificates").fill("#deviceId", prefix).click("#search");

            assertThat(b.all("#results a.serial")).as("the two devices with the prefix").hasSize(2);
            assertThat(b.text("#results")).contains(prefix + "-a", prefix + "-b").doesNotContain("other-");
            b.screenshot(DOCS.resolve("console-certificates.png"));

            b.click("#results a.serial[href$='" + serial + "']");

            assertThat(b.text("h1")).contains(prefix + "-a");
            assertThat(b.text("#status")).isEqualTo("ISSUED");
            assertThat(b.text("#decoded")).contains("CN=" + prefix + "-a", "clientAuth", "digitalSignature");
            assertThat(b.all("#chain li")).isNotEmpty();
            assertThat(b.text("#history")).contains("certificate.issued", "device:" + prefix + "-a");
            int der = jdbc.queryForObject("select octet_length(der) from certificate where serial = ?", Integer.class,
                    serial);
            assertThat(b.text("#der-size")).startsWith(der + " bytes DER");
            HttpResponse<String> pem = b.request("GET", "/console/certificates/" + serial + "/pem", null);
            assertThat(pem.statusCode()).isEqualTo(200);
            assertThat(pem.body()).startsWith("-----BEGIN CERTIFICATE-----");
            assertThat(pem.headers().firstValue("Content-Disposition").orElseThrow()).contains("attachment");
            b.screenshot(DOCS.resolve("console-certificate.png"));

            b.fill("#reason-select", "superseded").click("#revoke");

            assertThat(b.text("#message")).contains("revoked (superseded)");
            assertThat(b.text("#status")).isEqualTo("REVOKED");
            assertThat(b.text("#reason")).isEqualTo("superseded");
            assertThat(b.text("#history")).contains("certificate.revoked");
        }
        assertThat(status(serial)).isEqualTo("REVOKED:superseded");
        assertThat(ocsp(serial)).isEqualTo("revoked: " + org.bouncycastle.asn1.x509.CRLReason.superseded);
        String keyId = operatorKey.isEmpty() ? "" : jdbc.queryForObject("select actor from audit_event where "
                + "action = 'certificate.revoked' and subject = ?", String.class, serial);
        assertThat(keyId).as("the operator's key is the actor").startsWith("api-key:").contains(":operator-");
    }

    @Test
    void revokeWhenKeyCompromiseThenConfirmationExplainsKeyBlockingFirst() throws Exception {
        String device = unique("kc");
        String serial = enroll(device);
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/certificates/" + serial).fill("#reason-select", "keyCompromise").click("#revoke");

            assertThat(b.text("h1")).isEqualTo("Revoke as keyCompromise?");
            assertThat(b.text("#key-blocking")).contains("blocked", "enrollment and renewal refuse it");
            // Counted by the store with revocation's own selection: no other certificate of this key.
            assertThat(b.text("#same-key")).isEqualTo("0");
            assertThat(status(serial)).as("nothing happens before the confirmation").isEqualTo("ISSUED");
            b.screenshot(DOCS.resolve("console-key-compromise.png"));

            b.click("#confirm");

            assertThat(b.text("#status")).isEqualTo("REVOKED");
            assertThat(b.text("#reason")).isEqualTo("keyCompromise");
        }
        assertThat(status(serial)).isEqualTo("REVOKED:keyCompromise");
        assertThat(jdbc.queryForObject("select count(*) from blocked_key where serial = ?", Integer.class, serial))
                .isEqualTo(1);
    }

    @Test
    void bulkWhenDryRunThenNothingRevokedUntilConfirmed() throws Exception {
        String device = unique("bulk");
        String first = enroll(device);
        String second = enroll(device);
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/revoke/bulk").fill("#by", "deviceId").fill("#value", device)
                    .fill("#reason", "cessationOfOperation").click("#dry-run");

            assertThat(b.text("h1")).startsWith("Dry run");
            assertThat(b.text("#count")).isEqualTo("2");
            assertThat(b.text("#by-profile")).contains("device 2");
            assertThat(b.text("#sample")).contains(first, second);
            assertThat(status(first)).isEqualTo("ISSUED");
            b.screenshot(DOCS.resolve("console-bulk-dry-run.png"));
            String confirmForm = "previewId=" + b.find("input[name=previewId]").getAttribute("value");

            b.click("#confirm");

            assertThat(b.text("#done")).contains("2 certificate(s)");
            HttpResponse<String> again = b.request("POST", "/console/revoke/bulk/confirm",
                    confirmForm + "&_csrf=" + csrf(b));
            assertThat(again.statusCode()).as("a dry run confirms once").isEqualTo(400);
        }
        assertThat(status(first)).isEqualTo("REVOKED:cessationOfOperation");
        assertThat(status(second)).isEqualTo("REVOKED:cessationOfOperation");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'certificate.bulk-revoked' "
                + "and details->>'selection' like ?", Integer.class, "%" + device + "%")).isEqualTo(1);
    }

    @Test
    void auditorWhenViewingACertificateThenNoRevokeButtonAndAForgedPostIsRefused() throws Exception {
        String serial = enroll(unique("aud"));
        try (Browser b = Browser.open(port)) {
            login(b, apiKey("AUDITOR"));
            b.go("/console/certificates/" + serial);

            assertThat(b.text("#status")).isEqualTo("ISSUED");
            assertThat(b.all("#revoke")).isEmpty();
            assertThat(b.all("#revoke-form")).isEmpty();
            assertThat(b.text("header")).doesNotContain("Bulk revoke", "API keys");

            HttpResponse<String> forged = b.request("POST", "/console/certificates/" + serial + "/revoke",
                    "reason=superseded&_csrf=" + csrf(b));
            assertThat(forged.statusCode()).isEqualTo(403);
            HttpResponse<String> bulk = b.request("POST", "/console/revoke/bulk/preview",
                    "by=deviceId&value=x&reason=superseded&_csrf=" + csrf(b));
            assertThat(bulk.statusCode()).isEqualTo(403);
            assertThat(b.request("GET", "/console/api-keys", null).statusCode()).isEqualTo(403);
        }
        assertThat(status(serial)).isEqualTo("ISSUED");
    }

    @Test
    void revokeWhenCsrfTokenMissingThenForbiddenAndNothingChanges() throws Exception {
        String serial = enroll(unique("csrf"));
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);

            HttpResponse<String> r = b.request("POST", "/console/certificates/" + serial + "/revoke",
                    "reason=superseded");

            assertThat(r.statusCode()).isEqualTo(403);
        }
        assertThat(status(serial)).isEqualTo("ISSUED");
    }

    @Test
    void tokenBatchWhenCreatedThenCsvDownloadsOnceAndUseIsShown() throws Exception {
        String line = unique("line");
        try (Browser b = Browser.open(port)) {
            login(b, apiKey("OPERATOR"));
            b.go("/console/tokens").fill("#batch-devices", line + "-1\n" + line + "-2").click("#create-batch");

            assertThat(b.text("#message")).contains("2 tokens created");
            String batchId = b.text("#batch-id");
            String path = java.net.URI.create(b.find("#download-csv-form").getAttribute("action")).getPath();
            b.screenshot(DOCS.resolve("console-token-batch.png"));
            String token0 = csrf(b);
            assertThat(b.request("HEAD", path, null).statusCode()).as("a HEAD consumes nothing").isIn(403, 405);
            assertThat(b.request("GET", path, null).statusCode()).as("nor a GET (prefetch)").isIn(403, 405);
            assertThat(b.request("POST", path, "").statusCode()).as("no CSRF token").isEqualTo(403);

            HttpResponse<String> csv = b.request("POST", path, "_csrf=" + token0);

            assertThat(csv.statusCode()).isEqualTo(200);
            assertThat(csv.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/csv");
            String[] lines = csv.body().split("\r\n");
            assertThat(lines).hasSize(3);
            assertThat(lines[0]).isEqualTo("device_id,token,profile,expires_at");
            assertThat(lines[1]).startsWith(line + "-1,trent_et_");
            assertThat(b.request("POST", path, "_csrf=" + token0).statusCode()).as("once").isEqualTo(410);

            String token = lines[1].split(",")[1];
            TrentClient.Response enrolled = http().enroll(token, "application/x-pem-file",
                    TestCsrs.ecP256(line + "-1").pem().getBytes(), "application/json");
            assertThat(enrolled.status()).as(enrolled.toString()).isEqualTo(201);

            b.go("/console/tokens/batch/" + batchId);
            assertThat(b.text("#used")).isEqualTo("1");
            assertThat(b.text("#tokens")).contains(enrolled.json().get("serial").asText()).contains("unused");
            assertThat(b.all("#download-csv")).isEmpty();
        }
    }

    @Test
    void apiKeysWhenAdminCreatesAndRevokesAKeyThenItsSessionEndsAndItLogsInNoMore() throws Exception {
        String name = unique("console-made");
        String key;
        try (Browser admin = Browser.open(port)) {
            login(admin, ADMIN_KEY);
            admin.go("/console/api-keys").fill("#key-name", name).fill("#key-role", "AUDITOR").click("#create-key");
            key = admin.text("#new-key");
            assertThat(key).startsWith("trent_ak_");
            assertThat(admin.text("#keys")).contains(name);

            try (Browser auditor = Browser.open(port)) {
                login(auditor, key);
                assertThat(auditor.path()).isEqualTo("/console/");
                assertThat(auditor.text("header")).contains(name, "AUDITOR");

                long id = jdbc.queryForObject("select id from api_key where name = ?", Long.class, name);
                admin.go("/console/api-keys");
                admin.click("form[action$='/api-keys/" + id + "/revoke'] button");
                assertThat(admin.text("#message")).contains("revoked");

                auditor.go("/console/certificates");
                assertThat(auditor.path()).as("the revoked key's open session ends").isEqualTo("/console/login");
            }
        }
        try (Browser again = Browser.open(port)) {
            login(again, key);
            assertThat(again.path()).isEqualTo("/console/login");
        }
        assertThat(jdbc.queryForList("select action from audit_event where subject = (select 'api-key:' || id from "
                + "api_key where name = ?) and actor = 'api-key:1:bootstrap-admin' order by id", String.class, name))
                .containsExactly("api-key.created", "api-key.revoked");
    }

    @Test
    void certificateWhenHeldReleasedAndRenewedThenItsPageShowsTheWholeHistory() throws Exception {
        String device = unique("history");
        TestCsrs.Csr csr = TestCsrs.ecP256(device);
        String serial = enroll(device, csr.keys());
        X509Certificate current = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(jdbc.queryForObject(
                        "select der from certificate where serial = ?", byte[].class, serial)));
        try (Browser b = Browser.open(port)) {
            login(b, apiKey("OPERATOR"));
            b.go("/console/certificates/" + serial).fill("#reason-select", "certificateHold").click("#revoke");

            assertThat(b.text("#reason")).isEqualTo("certificateHold");
            assertThat(status(serial)).isEqualTo("REVOKED:certificateHold");

            b.click("#unhold");

            assertThat(b.text("#message")).contains("released");
            assertThat(b.text("#status")).isEqualTo("ISSUED");
            // The device renews with its current certificate (from the trusted proxy's header).
            TrentClient.Response renewed = http().send("POST", "/api/v1/renew", Map.of("Content-Type",
                    "application/pkcs10", "X-Client-Cert", java.net.URLEncoder.encode(dev.trent.pki.Pem.certificates(
                            java.util.List.of(current)), java.nio.charset.StandardCharsets.UTF_8)), csr.der());
            assertThat(renewed.status()).as(renewed.toString()).isIn(200, 201);
            String next = jdbc.queryForObject("select n.serial from certificate n join certificate c on n.renewed_from "
                    + "= c.id where c.serial = ?", String.class, serial);

            b.go("/console/certificates/" + serial);
            // A hold is audited as a revocation with its reason, and released as certificate.unheld.
            assertThat(b.text("#history")).contains("certificate.issued", "certificate.revoked", "certificateHold",
                    "certificate.unheld", "renewed to");
            assertThat(b.all("#history a[href$='/console/certificates/" + next + "']")).hasSize(1);
            b.go("/console/certificates/" + next);
            assertThat(b.text("#history")).contains("renewed from");
            assertThat(b.all("#history a[href$='/console/certificates/" + serial + "']")).hasSize(1);
        }
    }

    @Test
    void bulkWhenByTokenBatchThenOnlyTheBatchsCertificatesAndOnlyAfterTheDryRun() throws Exception {
        String line = unique("bulk-batch");
        try (Browser b = Browser.open(port)) {
            login(b, apiKey("OPERATOR"));
            b.go("/console/tokens").fill("#batch-devices", line + "-1\n" + line + "-2").click("#create-batch");
            String batchId = b.text("#batch-id");
            String path = java.net.URI.create(b.find("#download-csv-form").getAttribute("action")).getPath();
            String[] rows = b.request("POST", path, "_csrf=" + csrf(b)).body().split("\r\n");
            TrentClient.Response enrolled = http().enroll(rows[1].split(",")[1], "application/x-pem-file",
                    TestCsrs.ecP256(line + "-1").pem().getBytes(), "application/json");
            assertThat(enrolled.status()).as(enrolled.toString()).isEqualTo(201);
            String inBatch = enrolled.json().get("serial").asText();
            String sameDeviceOutsideTheBatch = enroll(line + "-1");

            b.go("/console/revoke/bulk").fill("#by", "batchId").fill("#value", batchId).click("#dry-run");

            assertThat(b.text("#count")).isEqualTo("1");
            assertThat(b.text("#sample")).contains(inBatch).doesNotContain(sameDeviceOutsideTheBatch);
            assertThat(status(inBatch)).isEqualTo("ISSUED");

            b.click("#confirm");

            assertThat(b.text("#done")).contains("1 certificate(s)");
        }
    }

    @Test
    void webhookWhenEventsQueuedThenItsPageShowsTheDeliveriesAndAdminDeletesIt() throws Exception {
        TrentClient.Response hook = http().postJson("/api/v1/webhooks", ADMIN_KEY, Map.of("url",
                "http://127.0.0.1:9/" + unique("console-hook"), "eventTypes", java.util.List.of("certificate.held")));
        assertThat(hook.status()).as(hook.toString()).isEqualTo(201);
        long id = hook.json().get("id").asLong();
        String serial = enroll(unique("hooked"));
        assertThat(http().postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY,
                Map.of("reason", "certificateHold")).status()).isEqualTo(200);
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/webhooks");
            b.click("a[href$='/console/webhooks/" + id + "']");

            assertThat(b.all("#deliveries tbody tr")).isNotEmpty();
            assertThat(b.text("#deliveries")).contains("certificate.held");

            b.go("/console/webhooks");
            b.click("form[action$='/webhooks/" + id + "/delete'] button");

            assertThat(b.text("#message")).contains("deleted");
        }
        assertThat(jdbc.queryForObject("select count(*) from webhook_endpoint where id = ?", Integer.class, id)).isZero();
    }

    @Test
    void auditWhenVerifiedThenChainHoldsAndFiltersWork() throws Exception {
        String serial = enroll(unique("audit"));
        http().postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY, Map.of("reason", "superseded"));
        http().postJson("/api/v1/audit/checkpoint", ADMIN_KEY, Map.of());
        try (Browser b = Browser.open(port)) {
            login(b, apiKey("AUDITOR"));
            b.go("/console/audit").fill("#subject", serial).click("#filter");
            assertThat(b.text("#events")).contains("certificate.issued", "certificate.revoked");
            assertThat(b.all("#events tbody tr")).hasSize(2);

            b.click("#verify");

            assertThat(b.text("#verify-result")).startsWith("The chain holds");
            b.screenshot(DOCS.resolve("console-audit.png"));
        }
    }

    @Test
    void issuersWhenRotationRefusedThenThePageSaysWhy() throws Exception {
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/issuers");
            assertThat(b.text("#issuers")).contains("ACTIVE", "loaded");
            b.screenshot(DOCS.resolve("console-issuers.png"));
            String active = jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class);

            b.fill("input[name=keyLabel]", "no-such-key").click("#rotate");

            assertThat(b.find("#problem").getText()).contains("no-such-key");
            assertThat(jdbc.queryForObject("select id from issuer where state = 'ACTIVE'", String.class))
                    .isEqualTo(active);
            b.go("/console/manufacturer-cas");
            assertThat(b.text("h1")).isEqualTo("Manufacturer CAs");
            b.go("/console/webhooks");
            assertThat(b.text("h1")).isEqualTo("Webhooks");
            assertThat(b.text("form.column")).contains("certificate.revoked");
        }
    }

    @Autowired
    dev.trent.tls.TlsServer tls;

    @Test
    void loginPageWhenServedOverHttpsThenSessionCookieIsSecure() {
        java.security.cert.X509Certificate root = http().get("/api/v1/ca/root", null, null).certificates().get(0);
        TrentClient.Response r = TrentClient.https(tls.port(), root).send("GET", "/console/login", Map.of(), null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Set-Cookie")).contains("Secure", "HttpOnly", "SameSite=Strict");
        assertThat(r.header("Strict-Transport-Security")).isNotNull();
    }

    @Test
    void bulkWhenSelectionChangedSinceTheDryRunThenNothingRevokedAndTheNewDryRunShown() throws Exception {
        String device = unique("bulk-changed");
        String first = enroll(device);
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/revoke/bulk").fill("#by", "deviceId").fill("#value", device).click("#dry-run");
            assertThat(b.text("#count")).isEqualTo("1");
            String second = enroll(device);

            b.click("#confirm");

            assertThat(b.text("#changed")).contains("1 then, 2 now", "nothing was revoked");
            assertThat(b.text("#count")).isEqualTo("2");
            assertThat(status(first)).isEqualTo("ISSUED");

            b.click("#confirm");

            assertThat(b.text("#done")).contains("2 certificate(s)");
            assertThat(status(second)).isEqualTo("REVOKED:cessationOfOperation");
        }
    }

    String enroll(String device, java.security.KeyPair keys) {
        TrentClient.Response r = http().enroll(http().token(ADMIN_KEY, device, "device", null),
                "application/x-pem-file", TestCsrs.forKey(keys, device).pem().getBytes(), "application/json");
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("serial").asText();
    }

    @Test
    void bulkWhenKeyCompromiseThenDryRunCountsTheCascadeAndAChangedCascadeRevokesNothing() throws Exception {
        java.security.KeyPair keys = TestCsrs.ecP256("shared").keys();
        String device = unique("bulk-kc");
        String first = enroll(device, keys);
        String sameKey = enroll(unique("bulk-kc-other"), keys);
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/revoke/bulk").fill("#by", "deviceId").fill("#value", device)
                    .fill("#reason", "keyCompromise").click("#dry-run");
            assertThat(b.text("#count")).isEqualTo("1");
            assertThat(b.text("#cascade")).as("the other certificate for the same key").isEqualTo("1");
            assertThat(b.pageText()).contains(sameKey);
            String third = enroll(unique("bulk-kc-third"), keys);

            b.click("#confirm");

            assertThat(b.text("#changed")).contains("1 + 1 then, 1 + 2 now", "nothing was revoked");
            assertThat(status(first)).isEqualTo("ISSUED");
            assertThat(status(third)).isEqualTo("ISSUED");

            b.click("#confirm");

            assertThat(b.text("#done")).contains("1 certificate(s)", "2 more");
        }
        assertThat(status(first)).isEqualTo("REVOKED:keyCompromise");
        assertThat(status(sameKey)).isEqualTo("REVOKED:keyCompromise");
    }

    @Test
    void revokeWhenInvalidityDateOverflowsThen400NamingTheFieldAndNothingChanges() throws Exception {
        String serial = enroll(unique("inv"));
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/certificates/" + serial);

            HttpResponse<String> r = b.request("POST", "/console/certificates/" + serial + "/revoke",
                    "reason=superseded&invalidityDate=-584552020-09-30T09:34:09Z&_csrf=" + csrf(b));

            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(r.body()).contains("invalidityDate");
        }
        assertThat(status(serial)).isEqualTo("ISSUED");
    }

    /** The plan PostgreSQL picks for a query when a table scan is its last resort. */
    String plan(String sql, Object... args) {
        return jdbc.execute((org.springframework.jdbc.core.ConnectionCallback<String>) c -> {
            try (java.sql.Statement st = c.createStatement()) {
                st.execute("set enable_seqscan = off");
            }
            try (java.sql.PreparedStatement ps = c.prepareStatement("explain " + sql)) {
                for (int i = 0; i < args.length; i++) {
                    ps.setObject(i + 1, args[i]);
                }
                StringBuilder out = new StringBuilder();
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.append(rs.getString(1)).append('\n');
                    }
                }
                return out.toString();
            } finally {
                try (java.sql.Statement st = c.createStatement()) {
                    st.execute("reset enable_seqscan");
                }
            }
        });
    }

    @Test
    void searchAndOverviewWhenFilteredThenAnIndexServesEachFilter() {
        java.sql.Timestamp since = java.sql.Timestamp.from(java.time.Instant.now().minus(java.time.Duration.ofDays(30)));
        assertThat(plan("select id from certificate where profile = ?",
                "device")).contains("certificate_profile_id_idx");
        assertThat(plan("select id from certificate where issuer_id = ? order by id desc", "x")).contains("certificate_issuer_id_idx");
        // The REVOKED filter as ConsoleQueries writes it walks the revoked rows' own index (V23; no
        // index reads status, so that storing a DER stays a HOT update).
        assertThat(plan("select id from certificate where status = ? and revoked_at is not null order by id desc",
                "REVOKED")).contains("certificate_revoked_id_idx");
        assertThat(plan("select (created_at at time zone 'UTC')::date, count(*) from certificate "
                + "where created_at >= ? group by 1", since))
                .contains("certificate_created_at_idx");
        assertThat(plan("select (revoked_at at time zone 'UTC')::date, count(*) from certificate "
                + "where revoked_at >= ? group by 1", since)).contains("certificate_revoked_at_idx");
    }

    @Test
    void tokenWhenTtlOutsideTheServicesLimitsThen400AndNoToken() throws Exception {
        String device = unique("ttl");
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/tokens");
            for (String hours : java.util.List.of("0", "-3", "999999999999999999", "100000")) {
                HttpResponse<String> r = b.request("POST", "/console/tokens",
                        "deviceId=" + device + "&profile=device&ttlHours=" + hours + "&_csrf=" + csrf(b));
                assertThat(r.statusCode()).as(hours).isEqualTo(400);
                assertThat(r.body()).as(hours).contains("ttlSeconds must be between 60 and");
            }
        }
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ?", Integer.class,
                device)).isZero();
    }

    @Test
    void requestWhenParameterMissingIllTypedOrMethodWrongThenAConsolePageWithA4xx() throws Exception {
        try (Browser b = Browser.open(port)) {
            login(b, ADMIN_KEY);
            b.go("/console/revoke/bulk");
            String token = csrf(b);
            Map<String, HttpResponse<String>> answers = new java.util.LinkedHashMap<>();
            answers.put("missing", b.request("POST", "/console/revoke/bulk/confirm", "_csrf=" + token));
            answers.put("ill-typed", b.request("GET", "/console/certificates?before=abc", null));
            answers.put("method", b.request("GET", "/console/revoke/bulk/confirm", null));
            answers.put("unknown", b.request("GET", "/console/no-such-page", null));

            assertThat(answers.get("missing").statusCode()).isEqualTo(400);
            assertThat(answers.get("missing").body()).contains("previewId");
            assertThat(answers.get("ill-typed").statusCode()).isEqualTo(400);
            assertThat(answers.get("ill-typed").body()).contains("before");
            assertThat(answers.get("method").statusCode()).isEqualTo(405);
            assertThat(answers.get("method").headers().firstValue("Allow")).hasValueSatisfying(
                    a -> assertThat(a).contains("POST"));
            assertThat(answers.get("unknown").statusCode()).isEqualTo(404);
            answers.forEach((what, r) -> {
                assertThat(r.headers().firstValue("Content-Type").orElseThrow()).as(what).startsWith("text/html");
                assertThat(r.body()).as(what).contains("id=\"problem\"", "Back to the overview");
            });
        }
    }

    @Test
    void logoutWhenDoneThenSessionCookieClearedAtItsPathAndLoginAndLogoutAudited() throws Exception {
        String key = apiKey("OPERATOR");
        try (Browser b = Browser.open(port)) {
            login(b, key);
            assertThat(b.path()).isEqualTo("/console/");

            HttpResponse<String> out = b.request("POST", "/console/logout", "_csrf=" + csrf(b));

            assertThat(out.statusCode()).isEqualTo(302);
            assertThat(out.headers().allValues("Set-Cookie")).anySatisfy(c -> assertThat(c)
                    .startsWith("JSESSIONID=;").contains("Path=/console", "Expires=Thu, 01 Jan 1970"));
        }
        String actor = jdbc.queryForObject("select actor from audit_event where action = 'console.login' "
                + "order by id desc limit 1", String.class);
        assertThat(actor).startsWith("api-key:").contains(":operator-");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'console.logout' "
                + "and actor = ?", Integer.class, actor)).isEqualTo(1);
        assertThat(jdbc.queryForObject("select subject from audit_event where action = 'console.login' "
                + "and actor = ?", String.class, actor)).isEqualTo("api-key:" + actor.split(":")[1]);
    }

    /**
     * The console's half of HttpFuzzIT (which fuzzes the API from openapi.yaml): every console
     * path, each method, junk path variables and parameters, as an OPERATOR with a valid CSRF
     * token (an ADMIN's fuzz could rotate the issuer or revoke the key the other tests use); never
     * a 5xx. Replay a failure with its printed seed.
     */
    @Test
    void consolePathsWhenFuzzedThenNo5xx() throws Exception {
        long seed = Long.getLong("trent.fuzz.seed", System.nanoTime());
        java.util.Random random = new java.util.Random(seed);
        String[] paths = {"/console", "/console/", "/console/api-keys", "/console/audit", "/console/certificates",
            "/console/certificates/{x}", "/console/certificates/{x}/der", "/console/certificates/{x}/pem",
            "/console/issuers", "/console/login", "/console/manufacturer-cas", "/console/revoke/bulk",
            "/console/tokens", "/console/tokens/batch/{x}", "/console/webhooks", "/console/webhooks/{x}",
            "/console/api-keys/{x}/revoke", "/console/certificates/{x}/revoke", "/console/certificates/{x}/unhold",
            "/console/manufacturer-cas/{x}/remove", "/console/revoke/bulk/confirm", "/console/revoke/bulk/preview",
            "/console/tokens/batch", "/console/tokens/batch/{x}/csv", "/console/webhooks/{x}/delete"};
        String[] junk = {"", "0", "-1", "99999999999999999999", "abc", "%00", "%ff%fe", "00:11:22", "7e",
            UUID.randomUUID().toString(), "keyCompromise", "certificateHold", "1970-01-01", "-999999999-01-01T00:00:00Z",
            "%3Cscript%3E", "a%2Fb", "..%2F..", "x".repeat(3000)};
        String[] names = {"reason", "invalidityDate", "confirm", "by", "value", "previewId", "deviceId", "deviceIds",
            "profile", "ttlHours", "dnsNames", "status", "issuer", "expiringBefore", "before", "page", "action",
            "actor", "name", "role", "url", "events", "secret"};
        try (Browser b = Browser.open(port)) {
            login(b, apiKey("OPERATOR"));
            b.go("/console/tokens");
            String token = csrf(b);
            java.util.List<String> failures = new java.util.ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String path = paths[random.nextInt(paths.length)].replace("{x}", junk[random.nextInt(junk.length)]);
                String method = new String[] {"GET", "POST", "POST", "HEAD", "PUT", "DELETE"}[random.nextInt(6)];
                StringBuilder form = new StringBuilder("_csrf=" + token);
                for (int n = random.nextInt(5); n > 0; n--) {
                    form.append('&').append(names[random.nextInt(names.length)]).append('=')
                            .append(junk[random.nextInt(junk.length)]);
                }
                HttpResponse<String> r;
                try {
                    r = "GET".equals(method) || "HEAD".equals(method)
                            ? b.request(method, path + "?" + form, null) : b.request(method, path, form.toString());
                } catch (IllegalArgumentException e) {
                    continue; // not a URI the client will send
                }
                if (r.statusCode() >= 500) {
                    failures.add(method + " " + path + " " + form + " -> " + r.statusCode());
                }
            }
            assertThat(failures).as("replay with -Dtrent.fuzz.seed=" + seed).isEmpty();
        }
    }
}
