package dev.trent.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.support.MovableClock;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import dev.trent.pki.Pem;

/**
 * The console's login, sessions and roles over plain HTTP (the browser adds nothing to these
 * rules; ConsoleIT drives the pages in chromium): a login without its CSRF token, the session id
 * changing at login, the idle and absolute limits reached by moving Trent's clock (never by
 * sleeping), and an OPERATOR refused every ADMIN page and form. One application with a clock of
 * its own; tests that move it only move it forward.
 */
class ConsoleAccessIT {

    static final String ADMIN_KEY = "trent_ak_console-access-admin-0123456789abcdefgh";

    @TempDir
    static Path dir;

    private static final MovableClock clock = new MovableClock();
    private static TrentApp app;

    @BeforeAll
    static void start() {
        app = TrentApp.start(Map.of("trent.data-dir", dir.resolve("data").toString(),
                "trent.bootstrap-admin-token", ADMIN_KEY,
                // As behind a TLS-terminating proxy on this host that forwards no client
                // certificate: the console refuses a login in clear text otherwise.
                "trent.tls.trusted-proxies", "127.0.0.1,::1",
                "trent.audit.failure-burst", "3"), clock);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    /** A client with its own cookie jar, which follows no redirect (each answer is asserted). */
    static final class Visitor {

        private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                .build();
        private static final Pattern CSRF = Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"");

        final Map<String, String> cookies = new LinkedHashMap<>();
        /** Headers sent with every request (as a proxy would add them). */
        final Map<String, String> headers = new LinkedHashMap<>();
        /** The form token of the last page that had one. */
        String csrf;

        HttpResponse<String> send(String method, String path, String form) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://localhost:" + app.port() + path))
                    .timeout(Duration.ofSeconds(30));
            if (!cookies.isEmpty()) {
                b.header("Cookie", cookies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                        .collect(Collectors.joining("; ")));
            }
            headers.forEach(b::header);
            if (form != null) {
                b.header("Content-Type", "application/x-www-form-urlencoded");
            }
            b.method(method, form == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(form));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            for (String c : r.headers().allValues("Set-Cookie")) {
                String pair = c.substring(0, c.indexOf(';') < 0 ? c.length() : c.indexOf(';'));
                String name = pair.substring(0, pair.indexOf('='));
                String value = pair.substring(pair.indexOf('=') + 1);
                if (value.isEmpty() || c.contains("Max-Age=0")) {
                    cookies.remove(name);
                } else {
                    cookies.put(name, value);
                }
            }
            Matcher m = CSRF.matcher(r.body());
            if (m.find()) {
                csrf = m.group(1);
            }
            return r;
        }

        HttpResponse<String> get(String path) throws Exception {
            return send("GET", path, null);
        }

        /** A form POST with the current CSRF token appended. */
        HttpResponse<String> post(String path, String form) throws Exception {
            return send("POST", path, (form.isEmpty() ? "" : form + "&") + "_csrf=" + enc(csrf));
        }

        String session() {
            return cookies.get("JSESSIONID");
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String location(HttpResponse<?> r) {
        return URI.create(r.headers().firstValue("Location").orElseThrow()).getPath()
                + (URI.create(r.headers().firstValue("Location").orElseThrow()).getQuery() == null ? ""
                        : "?" + URI.create(r.headers().firstValue("Location").orElseThrow()).getQuery());
    }

    /** Logs in as a browser would: the login page (CSRF cookie and token), then the form. */
    static Visitor login(Visitor v, String key) throws Exception {
        assertThat(v.get("/console/login").statusCode()).isEqualTo(200);
        HttpResponse<String> r = v.post("/console/login", "apiKey=" + enc(key));
        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(location(r)).isEqualTo("/console/");
        return v;
    }

    /** What a request with only this session id (and a CSRF cookie) gets at the overview: 200, or where it is sent. */
    static String overviewWith(String sessionId) throws Exception {
        Visitor other = new Visitor();
        other.cookies.put("JSESSIONID", sessionId);
        HttpResponse<String> r = other.get("/console/");
        return r.statusCode() == 200 ? "200" : r.statusCode() + " " + location(r);
    }

    static String apiKey(String role) {
        TrentClient.Response r = app.client().postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", role.toLowerCase(java.util.Locale.ROOT) + "-" + UUID.randomUUID().toString()
                        .substring(0, 8), "role", role));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("key").asText();
    }

    static int logins() {
        return app.jdbc().queryForObject("select count(*) from audit_event where action = 'console.login'",
                Integer.class);
    }

    @Test
    void loginWhenCsrfTokenMissingThen403AndNotLoggedIn() throws Exception {
        int before = logins();
        Visitor v = new Visitor();
        assertThat(v.get("/console/login").statusCode()).isEqualTo(200);
        assertThat(v.cookies).containsKey(ConsoleSecurityConfiguration.CSRF_COOKIE);

        HttpResponse<String> withoutToken = v.send("POST", "/console/login", "apiKey=" + enc(ADMIN_KEY));
        Visitor bare = new Visitor();
        HttpResponse<String> withoutCookieOrToken = bare.send("POST", "/console/login", "apiKey=" + enc(ADMIN_KEY));
        HttpResponse<String> withAnotherToken = v.send("POST", "/console/login", "apiKey=" + enc(ADMIN_KEY)
                + "&_csrf=forged");

        for (HttpResponse<String> r : List.of(withoutToken, withoutCookieOrToken, withAnotherToken)) {
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.headers().allValues("Set-Cookie")).noneMatch(c -> c.startsWith("JSESSIONID="));
        }
        assertThat(v.session()).isNull();
        HttpResponse<String> overview = v.get("/console/");
        assertThat(overview.statusCode()).isEqualTo(302);
        assertThat(location(overview)).isEqualTo("/console/login");
        assertThat(logins()).as("no console.login audited").isEqualTo(before);
    }

    @Test
    void loginWhenTheTrustedProxySaysTheClientUsedPlainHttpThenRefusedBeforeTheKeyIsLookedAt() throws Exception {
        int before = logins();
        Visitor v = new Visitor();
        v.headers.put("X-Forwarded-Proto", "http");
        assertThat(v.get("/console/login").statusCode()).isEqualTo(200);

        HttpResponse<String> r = v.post("/console/login", "apiKey=" + enc(ADMIN_KEY));

        assertThat(r.statusCode()).isEqualTo(302);
        assertThat(location(r)).isEqualTo("/console/login?tls");
        assertThat(v.session()).isNull();
        assertThat(logins()).isEqualTo(before);
        v.headers.put("X-Forwarded-Proto", "https");
        login(v, ADMIN_KEY);
    }

    @Test
    void loginWhenASessionExistedThenItsIdChangesAndTheOldIdIsNotLoggedIn() throws Exception {
        // The fixation attack: someone holds a live session id (here their own AUDITOR login) and
        // plants it in the victim's browser before the victim logs in.
        Visitor attacker = login(new Visitor(), apiKey("AUDITOR"));
        String planted = attacker.session();
        assertThat(overviewWith(planted)).isEqualTo("200");
        Visitor victim = new Visitor();
        victim.cookies.put("JSESSIONID", planted);

        login(victim, ADMIN_KEY);

        assertThat(victim.session()).isNotNull().isNotEqualTo(planted);
        assertThat(victim.get("/console/api-keys").statusCode()).as("the new id is the ADMIN's").isEqualTo(200);
        assertThat(overviewWith(planted)).as("the planted id is logged in as nobody").isEqualTo("302 /console/login");
        assertThat(attacker.get("/console/api-keys").statusCode()).isEqualTo(302);
    }

    @Test
    void sessionWhenUnusedForTheIdleTimeoutThenEndsButUseKeepsItAlive() throws Exception {
        Visitor v = login(new Visitor(), ADMIN_KEY);
        Duration idle = Duration.ofMinutes(15);

        clock.advance(idle.minusSeconds(30));
        assertThat(v.get("/console/").statusCode()).isEqualTo(200);
        clock.advance(idle.minusSeconds(30));
        assertThat(v.get("/console/").statusCode()).as("29 minutes after the login, 14.5 after its last use")
                .isEqualTo(200);

        clock.advance(idle);
        HttpResponse<String> idleOut = v.get("/console/");

        assertThat(idleOut.statusCode()).isEqualTo(302);
        assertThat(location(idleOut)).isEqualTo("/console/login?expired");
        HttpResponse<String> again = v.get("/console/");
        assertThat(location(again)).as("the session is gone, not only refused once").isEqualTo("/console/login");
        assertThat(v.get("/console/login?expired").body()).contains("Your session has ended");
    }

    @Test
    void sessionWhenKeptBusyThenEndsAtTheAbsoluteTimeoutAfterItsLogin() throws Exception {
        Visitor v = login(new Visitor(), ADMIN_KEY);
        Instant loginAt = clock.instant();
        Instant end = loginAt.plus(Duration.ofHours(8));

        while (clock.instant().plus(Duration.ofMinutes(10)).isBefore(end)) {
            clock.advance(Duration.ofMinutes(10));
            assertThat(v.get("/console/").statusCode()).as(clock.instant().toString()).isEqualTo(200);
        }
        clock.advance(Duration.between(clock.instant(), end));
        HttpResponse<String> over = v.get("/console/");

        assertThat(over.statusCode()).isEqualTo(302);
        assertThat(location(over)).isEqualTo("/console/login?expired");
        assertThat(location(v.get("/console/"))).isEqualTo("/console/login");
    }

    /** A fingerprint of what the ADMIN-only forms change, and of their audit events. */
    static String adminState() {
        return app.jdbc().queryForObject("select concat_ws(' | ', "
                + "(select string_agg(id || ':' || name || ':' || role || ':' || coalesce(revoked_at::text, '-'), ',' "
                + "  order by id) from api_key), "
                + "(select string_agg(id || ':' || state, ',' order by id) from issuer), "
                + "(select string_agg(id || ':' || name, ',' order by id) from manufacturer_ca), "
                + "(select string_agg(id || ':' || url, ',' order by id) from webhook_endpoint), "
                + "(select count(*) from audit_event where action similar to "
                + "'(api-key|webhook|manufacturer-ca|issuer)[.]%'))", String.class);
    }

    static String manufacturerCaPem() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        X500Name name = new X500Name("CN=Console Access Test Device Root CA,O=Test");
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name,
                new BigInteger(64, new java.security.SecureRandom()).setBit(0), Date.from(now.minus(Duration.ofDays(1))),
                Date.from(now.plus(Duration.ofDays(3650))), name, keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        return Pem.certificates(List.of(new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())))));
    }

    /**
     * Each ADMIN form as an OPERATOR (with a valid CSRF token): 403 and nothing changes; then the
     * same form as an ADMIN does what it says, so the refusal was the role's and not a bad form.
     */
    @Test
    void operatorWhenAdminPagesOrFormsThen403AndNothingChanges() throws Exception {
        Visitor operator = login(new Visitor(), apiKey("OPERATOR"));
        Visitor admin = login(new Visitor(), ADMIN_KEY);
        assertThat(operator.get("/console/tokens").statusCode()).isEqualTo(200);
        assertThat(admin.get("/console/").statusCode()).isEqualTo(200);
        String activeIssuer = app.jdbc().queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
        String activeLabel = app.jdbc().queryForObject("select coalesce(key_label, 'none') from issuer where id = ?",
                String.class, activeIssuer);

        for (String page : List.of("/console/api-keys", "/console/webhooks", "/console/webhooks/1")) {
            assertThat(operator.get(page).statusCode()).as(page).isEqualTo(403);
        }
        // The pages an OPERATOR may read show no ADMIN form or link (the ADMIN's do).
        for (String page : List.of("/console/", "/console/issuers", "/console/manufacturer-cas")) {
            HttpResponse<String> shown = operator.get(page);
            assertThat(shown.statusCode()).as(page).isEqualTo(200);
            assertThat(shown.body()).as(page).doesNotContain("/console/api-keys", "/console/webhooks",
                    "/console/issuers/rotate", "action=\"/console/manufacturer-cas\"");
        }
        assertThat(admin.get("/console/issuers").body()).contains("/console/issuers/rotate", "/console/api-keys");
        assertThat(admin.get("/console/manufacturer-cas").body()).contains("action=\"/console/manufacturer-cas\"");
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String pem = manufacturerCaPem();
        Map<String, String> creates = new LinkedHashMap<>();
        creates.put("/console/api-keys", "name=forged-" + suffix + "&role=ADMIN");
        creates.put("/console/webhooks", "url=" + enc("http://127.0.0.1:9/forged-" + suffix)
                + "&eventTypes=certificate.revoked");
        creates.put("/console/manufacturer-cas", "name=forged-" + suffix + "&certificatePem=" + enc(pem)
                + "&profile=device&deviceIdPrefix=forged-" + suffix + "-");
        creates.put("/console/issuers/rotate", "keyLabel=" + enc(activeLabel) + "&allowNewRoot=yes");

        for (Map.Entry<String, String> form : creates.entrySet()) {
            String before = adminState();
            HttpResponse<String> r = operator.post(form.getKey(), form.getValue());
            assertThat(r.statusCode()).as(form.getKey()).isEqualTo(403);
            assertThat(r.body()).as(form.getKey()).contains("id=\"denied\"");
            assertThat(adminState()).as(form.getKey()).isEqualTo(before);
        }

        // The same creations as the ADMIN (the rotation to the active key changes nothing anyway).
        for (String path : List.of("/console/api-keys", "/console/webhooks", "/console/manufacturer-cas")) {
            String before = adminState();
            HttpResponse<String> r = admin.post(path, creates.get(path));
            assertThat(r.statusCode()).as(path + ": " + r.body()).isIn(200, 302);
            assertThat(adminState()).as(path).isNotEqualTo(before);
        }
        long keyId = app.jdbc().queryForObject("select id from api_key where name = ?", Long.class, "forged-" + suffix);
        long hookId = app.jdbc().queryForObject("select id from webhook_endpoint where url = ?", Long.class,
                "http://127.0.0.1:9/forged-" + suffix);
        long caId = app.jdbc().queryForObject("select id from manufacturer_ca where name = ?", Long.class,
                "forged-" + suffix);
        assertThat(operator.get("/console/webhooks/" + hookId).statusCode()).isEqualTo(403);

        List<String> removals = List.of("/console/api-keys/" + keyId + "/revoke", "/console/webhooks/" + hookId
                + "/delete", "/console/manufacturer-cas/" + caId + "/remove");
        for (String path : removals) {
            String before = adminState();
            assertThat(operator.post(path, "").statusCode()).as(path).isEqualTo(403);
            assertThat(adminState()).as(path).isEqualTo(before);
        }
        for (String path : removals) {
            String before = adminState();
            assertThat(admin.post(path, "").statusCode()).as(path).isEqualTo(302);
            assertThat(adminState()).as(path).isNotEqualTo(before);
        }
        assertThat(app.jdbc().queryForObject("select id from issuer where state = 'ACTIVE'", String.class))
                .isEqualTo(activeIssuer);
    }

    /** A connection with the database owner's rights (as AuditChainIT opens), triggers switched off. */
    static java.sql.Connection owner() throws java.sql.SQLException {
        com.zaxxer.hikari.HikariDataSource ds = (com.zaxxer.hikari.HikariDataSource) app.context()
                .getBean(javax.sql.DataSource.class);
        java.sql.Connection c = java.sql.DriverManager.getConnection(ds.getJdbcUrl().replaceAll("\\?.*$", ""),
                ds.getUsername(), ds.getPassword());
        try (java.sql.Statement st = c.createStatement()) {
            st.execute("set session_replication_role = replica");
        }
        return c;
    }

    @Test
    void auditWhenAnEventWasEditedInPostgresThenTheVerificationNamesTheFirstBrokenLink() throws Exception {
        Visitor auditor = login(new Visitor(), apiKey("AUDITOR"));
        assertThat(auditor.get("/console/audit?verify=1").body()).contains("The chain holds");
        Map<String, Object> victim = app.jdbc().queryForMap("select ch.seq, e.id, e.details::text as details "
                + "from audit_event e join audit_chain ch on ch.event_id = e.id where e.action = 'api-key.created' "
                + "order by e.id limit 1");
        try (java.sql.Connection db = owner(); java.sql.PreparedStatement edit = db.prepareStatement(
                "update audit_event set details = ?::jsonb where id = ?")) {
            edit.setString(1, "{\"role\": \"AUDITOR\", \"edited\": true}");
            edit.setLong(2, (Long) victim.get("id"));
            assertThat(edit.executeUpdate()).isEqualTo(1);
            try {
                HttpResponse<String> page = auditor.get("/console/audit?verify=1");

                assertThat(page.statusCode()).isEqualTo(200);
                assertThat(page.body().replaceAll("\\s+", " ")).contains("The chain is broken.",
                        "First broken link: entry <strong>" + victim.get("seq") + "</strong>",
                        "(event <span>" + victim.get("id") + "</span>)", "does not match its hash");
            } finally {
                edit.setString(1, (String) victim.get("details"));
                assertThat(edit.executeUpdate()).isEqualTo(1);
            }
        }
        assertThat(auditor.get("/console/audit?verify=1").body()).as("restored").contains("The chain holds");
    }

    /** The serials a certificate search lists, in order. */
    static List<String> serials(Visitor v, String query) throws Exception {
        HttpResponse<String> r = v.get("/console/certificates?" + query);
        assertThat(r.statusCode()).as(query).isEqualTo(200);
        Matcher m = Pattern.compile("<a class=\"serial mono\" href=\"[^\"]*\">([0-9a-fA-F]+)</a>").matcher(r.body());
        List<String> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    static String enroll(String device) {
        TrentClient c = app.client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                dev.trent.support.TestCsrs.ecP256(device).pem().getBytes(StandardCharsets.US_ASCII), "application/json");
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("serial").asText();
    }

    @Test
    void searchWhenFilteredByEachFieldThenOnlyTheMatchingCertificatesNewestFirst() throws Exception {
        String prefix = "search-" + UUID.randomUUID().toString().substring(0, 8);
        String a = enroll(prefix + "-a");
        String b = enroll(prefix + "-b");
        String other = enroll("elsewhere-" + prefix);
        assertThat(app.client().postJson("/api/v1/certificates/" + b + "/revoke", ADMIN_KEY,
                Map.of("reason", "superseded")).status()).isEqualTo(200);
        String issuer = app.jdbc().queryForObject("select issuer_id from certificate where serial = ?", String.class, a);
        String tls = app.jdbc().queryForObject("select serial from certificate where profile = 'tls-server' and "
                + "status = 'ISSUED' order by id desc limit 1", String.class);
        long newest = app.jdbc().queryForObject("select id from certificate where serial = ?", Long.class, b);
        Visitor v = login(new Visitor(), apiKey("AUDITOR"));

        assertThat(serials(v, "deviceId=" + prefix)).as("a prefix, newest first").containsExactly(b, a);
        assertThat(serials(v, "deviceId=" + prefix + "&status=REVOKED")).containsExactly(b);
        assertThat(serials(v, "deviceId=" + prefix + "&status=issued")).containsExactly(a);
        assertThat(serials(v, "deviceId=" + prefix + "&profile=device&issuer=" + issuer)).containsExactly(b, a);
        assertThat(serials(v, "deviceId=" + prefix + "&profile=tls-server")).isEmpty();
        assertThat(serials(v, "deviceId=" + prefix + "&issuer=" + "0".repeat(40))).isEmpty();
        assertThat(serials(v, "deviceId=" + prefix + "&before=" + newest)).as("the page after b").containsExactly(a);
        // Device certificates live a year; Trent's own HTTPS certificate 30 days (by Trent's clock).
        String inSixtyDays = clock.instant().plus(Duration.ofDays(60)).toString();
        assertThat(serials(v, "profile=tls-server&expiringBefore=" + inSixtyDays)).contains(tls);
        assertThat(serials(v, "deviceId=" + prefix + "&expiringBefore=" + inSixtyDays)).isEmpty();
        assertThat(serials(v, "deviceId=elsewhere-" + prefix)).containsExactly(other);
    }

    @Test
    void tokenWhenAnOperatorCreatesOneThenItIsShownOnceAuditedAndEnrollsTheDevice() throws Exception {
        Visitor operator = login(new Visitor(), apiKey("OPERATOR"));
        assertThat(operator.get("/console/tokens").statusCode()).isEqualTo(200);
        String device = "single-" + UUID.randomUUID().toString().substring(0, 8);

        HttpResponse<String> r = operator.post("/console/tokens", "deviceId=" + device + "&profile=device&ttlHours=2");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Cache-Control")).hasValueSatisfying(c -> assertThat(c).contains("no-store"));
        Matcher m = Pattern.compile("<pre id=\"token\">(trent_et_[^<]+)</pre>").matcher(r.body());
        assertThat(m.find()).as(r.body()).isTrue();
        assertThat(app.jdbc().queryForObject("select actor from audit_event where action = 'enrollment-token.created' "
                + "and subject = ?", String.class, device)).startsWith("api-key:").contains(":operator-");
        TrentClient.Response enrolled = app.client().enroll(m.group(1), "application/x-pem-file",
                dev.trent.support.TestCsrs.ecP256(device).pem().getBytes(StandardCharsets.US_ASCII), "application/json");
        assertThat(enrolled.status()).as(enrolled.toString()).isEqualTo(201);
        assertThat(enrolled.json().get("deviceId").asText()).isEqualTo(device);
    }

    @Test
    void bulkWhenByProfileThenTheDryRunCountsTheWholeProfileAndRevokesNothing() throws Exception {
        enroll("bulk-profile-" + UUID.randomUUID().toString().substring(0, 8));
        String countIssued = "select count(*) from certificate where profile = 'device' and status = 'ISSUED'";
        long issued = app.jdbc().queryForObject(countIssued, Long.class);
        Visitor operator = login(new Visitor(), apiKey("OPERATOR"));
        assertThat(operator.get("/console/revoke/bulk").statusCode()).isEqualTo(200);

        HttpResponse<String> preview = operator.post("/console/revoke/bulk/preview",
                "by=profile&value=device&reason=superseded");

        assertThat(preview.statusCode()).isEqualTo(200);
        assertThat(preview.body()).contains("<strong id=\"count\">" + issued + "</strong>");
        assertThat(app.jdbc().queryForObject(countIssued, Long.class)).as("a dry run revokes nothing").isEqualTo(issued);
    }

    @Test
    void issuersWhenAnAdminRotatesToAPreparedKeyThenItIsActiveAndTheRotationAuditedAsTheAdmin() throws Exception {
        // The key ceremony, as docs/ca.md describes it: a key and CSR in Trent's keystore, signed by
        // the root, imported with its chain.
        Path ca = dir.resolve("data").resolve("ca");
        String label = "next-" + UUID.randomUUID().toString().substring(0, 8);
        Path work = java.nio.file.Files.createDirectories(dir.resolve(label));
        String keystore = ca.resolve("intermediate.p12").toString();
        dev.trent.support.CaCommand.run("csr", "--out", work.toString(), "--subject", "CN=Next Issuing CA " + label
                + ",O=Trent", "--key-label", label, "--keystore", keystore);
        dev.trent.support.CaCommand.run("sign", "--root-keystore", ca.resolve("root.p12").toString(),
                "--root-password-file", ca.resolve("root.p12.pass").toString(), "--csr",
                work.resolve("intermediate.csr").toString(), "--out", work.resolve(label + ".pem").toString());
        dev.trent.support.CaCommand.run("import", "--cert", work.resolve(label + ".pem").toString(), "--chain",
                ca.resolve("root.pem").toString(), "--key-label", label, "--keystore", keystore);
        String before = app.jdbc().queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
        Visitor admin = login(new Visitor(), ADMIN_KEY);
        assertThat(admin.get("/console/issuers").statusCode()).isEqualTo(200);

        HttpResponse<String> r = admin.post("/console/issuers/rotate", "keyLabel=" + label);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(302);
        assertThat(location(r)).isEqualTo("/console/issuers");
        String after = app.jdbc().queryForObject("select id from issuer where state = 'ACTIVE'", String.class);
        assertThat(after).isNotEqualTo(before);
        assertThat(app.jdbc().queryForObject("select state from issuer where id = ?", String.class, before))
                .isEqualTo("RETIRED");
        assertThat(admin.get("/console/issuers").body()).contains("Issuer " + after + " is now active; " + before
                + " is retired");
        assertThat(app.jdbc().queryForObject("select actor from audit_event where action = 'issuer.activated' "
                + "order by id desc limit 1", String.class)).isEqualTo("api-key:1:bootstrap-admin");
    }

    @Test
    void loginWhenKeyWrongAfterWrongKeysOnTheApiThenTheSameFailureBurst() throws Exception {
        String bursts = "select count(*) from audit_event where action = 'auth.failure-burst' "
                + "and details->>'credential' = 'api-key'";
        long before = app.jdbc().queryForObject(bursts, Long.class);
        for (int i = 0; i < 2; i++) {
            assertThat(app.client().get("/api/v1/certificates", "trent_ak_wrong-api-key-" + i, null).status())
                    .isEqualTo(401);
        }
        assertThat(app.jdbc().queryForObject(bursts, Long.class)).as("two failures: no burst yet").isEqualTo(before);
        Visitor v = new Visitor();
        v.get("/console/login");

        HttpResponse<String> r = v.post("/console/login", "apiKey=trent_ak_wrong-console-key");

        assertThat(location(r)).isEqualTo("/console/login?error");
        assertThat(location(v.get("/console/"))).as("not logged in").isEqualTo("/console/login");
        assertThat(app.jdbc().queryForObject(bursts, Long.class)).as("the console's failure is the third")
                .isEqualTo(before + 1);
    }

    @Test
    void auditWhenMoreEventsThanAPageThenOlderPagesFollowWithoutOverlap() throws Exception {
        String key = apiKey("OPERATOR");
        String keyId = UUID.randomUUID().toString().substring(0, 8);
        TrentClient c = app.client();
        for (int i = 0; i < AuditPageController.PAGE_SIZE + 2; i++) {
            c.token(key, "paged-" + keyId + "-" + i, "device", null);
        }
        // Chained now (the pages list chained events), as ConsoleIT's audit test does.
        assertThat(c.postJson("/api/v1/audit/checkpoint", ADMIN_KEY, Map.of()).status()).isIn(200, 201);
        String operatorActor = app.jdbc().queryForObject("select actor from audit_event where action = "
                + "'enrollment-token.created' and subject = ?", String.class, "paged-" + keyId + "-0");
        Visitor v = login(new Visitor(), apiKey("AUDITOR"));
        Pattern row = Pattern.compile("<td class=\"mono\">(paged-" + keyId + "-\\d+)</td>");

        HttpResponse<String> first = v.get("/console/audit?action=enrollment-token.created&actor=" + enc(operatorActor));
        Matcher older = Pattern.compile("id=\"older\" href=\"([^\"]+)\"").matcher(first.body());
        assertThat(older.find()).as("a link to the older page").isTrue();
        HttpResponse<String> second = v.get(older.group(1).replace("&amp;", "&"));

        List<String> seen = new java.util.ArrayList<>();
        for (HttpResponse<String> page : List.of(first, second)) {
            Matcher m = row.matcher(page.body());
            while (m.find()) {
                seen.add(m.group(1));
            }
        }
        assertThat(seen).hasSize(AuditPageController.PAGE_SIZE + 2).doesNotHaveDuplicates();
        assertThat(seen.get(0)).as("newest first").isEqualTo("paged-" + keyId + "-" + (AuditPageController.PAGE_SIZE + 1));
        assertThat(second.body()).doesNotContain("id=\"older\"");
    }

    @Test
    void certificateWhenDownloadedThenDerIsTheStoredCertificateAndPemCarriesItsChain() throws Exception {
        String serial = enroll("download-" + UUID.randomUUID().toString().substring(0, 8));
        byte[] stored = app.jdbc().queryForObject("select der from certificate where serial = ?", byte[].class, serial);
        Visitor v = login(new Visitor(), apiKey("AUDITOR"));

        HttpResponse<byte[]> der = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:"
                + app.port() + "/console/certificates/" + serial + "/der")).header("Cookie", "JSESSIONID=" + v.session())
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        HttpResponse<String> pem = v.get("/console/certificates/" + serial + "/pem");

        assertThat(der.statusCode()).isEqualTo(200);
        assertThat(der.headers().firstValue("Content-Type")).hasValue("application/pkix-cert");
        assertThat(der.headers().firstValue("Content-Disposition").orElseThrow()).startsWith("attachment")
                .contains(serial + ".cer");
        assertThat(der.body()).isEqualTo(stored);
        assertThat(pem.statusCode()).isEqualTo(200);
        List<? extends java.security.cert.Certificate> chain = java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(pem.body().getBytes(StandardCharsets.US_ASCII)))
                .stream().toList();
        assertThat(chain).hasSizeGreaterThanOrEqualTo(2);
        assertThat(chain.get(0).getEncoded()).isEqualTo(stored);
    }
}
