package dev.trent.operator;

import static dev.trent.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/** The operator API: API keys and roles, tokens (single and batch), certificate search, CA certificates. */
class OperatorApiIT extends IntegrationTest {

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    RequestMappingHandlerMapping mappings;

    private String apiKey(String role) {
        TrentClient.Response r = client().postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", role.toLowerCase(java.util.Locale.ROOT) + "-" + deviceId("k"), "role", role));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(r.json().get("key").asText()).startsWith("trent_ak_");
        return r.json().get("key").asText();
    }

    @Test
    void operatorApiWhenRolesDifferThenEachGetsOnlyItsOperations() {
        TrentClient c = client();
        String auditor = apiKey("AUDITOR");
        String operator = apiKey("OPERATOR");
        Map<String, Object> token = Map.of("deviceId", deviceId("role"), "profile", "device");

        assertProblem(c.postJson("/api/v1/enrollment-tokens", auditor, token), 403, "forbidden");
        assertThat(c.get("/api/v1/certificates", auditor, "application/json").status()).isEqualTo(200);
        assertThat(c.postJson("/api/v1/enrollment-tokens", operator, token).status()).isEqualTo(201);
        assertProblem(c.postJson("/api/v1/api-keys", operator, Map.of("name", "x", "role", "ADMIN")), 403,
                "forbidden");
        assertProblem(c.get("/api/v1/api-keys", auditor, null), 403, "forbidden");
        assertThat(c.get("/api/v1/api-keys", ADMIN_KEY, null).status()).isEqualTo(200);
    }

    @Test
    void operatorApiWhenCredentialMissingWrongOrEnrollmentTokenThen401() {
        TrentClient c = client();
        String enrollmentToken = c.token(ADMIN_KEY, deviceId("sep"), "device", null);

        assertProblem(c.get("/api/v1/certificates", null, null), 401, "unauthorized");
        assertProblem(c.get("/api/v1/certificates", "trent_ak_unknown", null), 401, "unauthorized");
        TrentClient.Response withToken = c.get("/api/v1/certificates", enrollmentToken, null);
        assertProblem(withToken, 401, "unauthorized");
        assertThat(withToken.json().get("detail").asText()).contains("Enrollment tokens are not valid");
        assertThat(withToken.header("WWW-Authenticate")).isEqualTo("Bearer");
        // The token still works where it belongs.
        assertThat(c.enroll(enrollmentToken, "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null)
                .status()).isEqualTo(201);
    }

    @Test
    void apiKeyWhenRevokedThenRefusedAndAudited() {
        TrentClient c = client();
        TrentClient.Response created = c.postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", "temp-" + deviceId("k"), "role", "AUDITOR"));
        String key = created.json().get("key").asText();
        long id = created.json().get("id").asLong();
        assertThat(c.get("/api/v1/certificates", key, null).status()).isEqualTo(200);

        TrentClient.Response revoked = c.send("DELETE", "/api/v1/api-keys/" + id,
                Map.of("Authorization", "Bearer " + ADMIN_KEY), null);

        assertThat(revoked.status()).isEqualTo(200);
        assertThat(revoked.json().get("revokedAt").isNull()).isFalse();
        assertThat(revoked.json().has("key")).isFalse();
        assertProblem(c.get("/api/v1/certificates", key, null), 401, "unauthorized");
        assertThat(jdbc.queryForList("select action from audit_event where subject = ? order by id", String.class,
                "api-key:" + id)).containsExactly("api-key.created", "api-key.revoked");
        // Only the hash is stored.
        assertThat(jdbc.queryForObject("select count(*) from api_key where key_hash = ?", Integer.class,
                dev.trent.pki.Hashes.sha256(key))).isEqualTo(1);
        // Listing never shows a key.
        for (JsonNode k : c.get("/api/v1/api-keys", ADMIN_KEY, null).json()) {
            assertThat(k.has("key")).isFalse();
        }
    }

    @Test
    void apiKeyWhenLastActiveAdminRevokedThen409() {
        TrentClient c = client();
        long bootstrapId = jdbc.queryForObject("select id from api_key where key_hash = ?", Long.class,
                dev.trent.pki.Hashes.sha256(ADMIN_KEY));
        TrentClient.Response other = c.postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", "admin-" + deviceId("k"), "role", "ADMIN"));
        long otherId = other.json().get("id").asLong();
        jdbc.update("update api_key set revoked_at = now() where role = 'ADMIN' and id not in (?, ?) "
                + "and revoked_at is null", bootstrapId, otherId);

        TrentClient.Response first = c.send("DELETE", "/api/v1/api-keys/" + otherId,
                Map.of("Authorization", "Bearer " + ADMIN_KEY), null);
        TrentClient.Response last = c.send("DELETE", "/api/v1/api-keys/" + bootstrapId,
                Map.of("Authorization", "Bearer " + ADMIN_KEY), null);

        assertThat(first.status()).isEqualTo(200);
        assertProblem(last, 409, "last-admin-key");
        assertThat(c.get("/api/v1/api-keys", ADMIN_KEY, null).status()).isEqualTo(200);
    }

    @Test
    void enrollmentTokenWhenRequestInvalidThen400WithReason() {
        TrentClient c = client();
        record Case(Map<String, Object> body, String detailContains) {
        }
        List<Case> cases = List.of(
                new Case(Map.of("deviceId", "d1", "profile", "nope"), "Unknown profile"),
                new Case(Map.of("deviceId", "d1"), "profile is required"),
                new Case(Map.of("deviceId", "has space", "profile", "device"), "deviceId must be"),
                new Case(Map.of("deviceId", "x".repeat(65), "profile", "device"), "deviceId must be"),
                new Case(Map.of("deviceId", "d1", "profile", "device", "dnsNames", List.of("a.example")),
                        "does not allow DNS names"),
                new Case(Map.of("deviceId", "d1", "profile", "server"), "requires at least one DNS name"),
                new Case(Map.of("deviceId", "d1", "profile", "server", "dnsNames", List.of("*.example.com")),
                        "not a valid DNS name"),
                new Case(Map.of("deviceId", "d1", "profile", "device", "ttlSeconds", 5), "ttlSeconds must be"),
                new Case(Map.of("deviceId", "d1", "profile", "device", "ttlSeconds", 999_999_999), "ttlSeconds must be"));
        for (Case k : cases) {
            TrentClient.Response r = c.postJson("/api/v1/enrollment-tokens", ADMIN_KEY, k.body());
            assertProblem(r, 400, "invalid-request");
            assertThat(r.json().get("detail").asText()).as(k.body().toString()).contains(k.detailContains());
        }
        TrentClient.Response badJson = c.send("POST", "/api/v1/enrollment-tokens",
                Map.of("Authorization", "Bearer " + ADMIN_KEY, "Content-Type", "application/json"), "{".getBytes());
        assertProblem(badJson, 400, "invalid-request");
    }

    @Test
    void enrollmentTokenWhenCreatedThenShownOnceStoredHashedAndAudited() {
        TrentClient c = client();
        String device = deviceId("once");
        TrentClient.Response r = c.postJson("/api/v1/enrollment-tokens", ADMIN_KEY,
                Map.of("deviceId", device, "profile", "device", "ttlSeconds", 3600));

        assertThat(r.status()).isEqualTo(201);
        assertThat(r.header("Cache-Control")).contains("no-store");
        String token = r.json().get("token").asText();
        assertThat(token).startsWith("trent_et_").hasSize(9 + 43);
        Instant expires = Instant.parse(r.json().get("expiresAt").asText());
        assertThat(expires).isBetween(Instant.now().plusSeconds(3500), Instant.now().plusSeconds(3700));
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where token_hash = ? and device_id = ?",
                Integer.class, dev.trent.pki.Hashes.sha256(token), device)).isEqualTo(1);
        Map<String, Object> audit = jdbc.queryForMap(
                "select actor, details::text as details from audit_event where action = 'enrollment-token.created' "
                        + "and subject = ?", device);
        assertThat((String) audit.get("actor")).matches("api-key:\\d+:bootstrap-admin");
        assertThat((String) audit.get("details")).doesNotContain(token.substring(9));
    }

    @Test
    void batchWhenJsonThenOneDistinctTokenPerDeviceAndEachEnrolls() {
        TrentClient c = client();
        List<String> devices = IntStream.range(0, 5).mapToObj(i -> deviceId("line")).toList();

        TrentClient.Response r = c.postJson("/api/v1/enrollment-tokens/batch", ADMIN_KEY,
                Map.of("deviceIds", devices, "profile", "device"));

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        JsonNode tokens = r.json().get("tokens");
        assertThat(tokens).hasSize(5);
        Set<String> secrets = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            assertThat(tokens.get(i).get("deviceId").asText()).isEqualTo(devices.get(i));
            secrets.add(tokens.get(i).get("token").asText());
        }
        assertThat(secrets).hasSize(5);
        String batchId = r.json().get("batchId").asText();
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where batch_id = ?::uuid", Integer.class,
                batchId)).isEqualTo(5);
        String token = tokens.get(3).get("token").asText();
        TrentClient.Response enrolled = c.enroll(token, "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), "application/json");
        assertThat(enrolled.json().get("deviceId").asText()).isEqualTo(devices.get(3));
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = "
                + "'enrollment-token.batch-created' and subject = ?", Integer.class, "batch:" + batchId)).isEqualTo(1);
    }

    @Test
    void batchWhenCsrAcceptedThenCsvWithHeaderAndOneLinePerDevice() {
        TrentClient c = client();
        List<String> devices = List.of(deviceId("csv"), deviceId("csv"));

        TrentClient.Response r = c.postJson("/api/v1/enrollment-tokens/batch", ADMIN_KEY,
                Map.of("deviceIds", devices, "profile", "device", "ttlSeconds", 600), "text/csv");

        assertThat(r.status()).isEqualTo(201);
        assertThat(r.contentType()).startsWith("text/csv");
        assertThat(r.header("X-Trent-Batch-Id")).isNotBlank();
        String[] lines = r.text().split("\r\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[0]).isEqualTo("device_id,token,profile,expires_at");
        for (int i = 0; i < 2; i++) {
            String[] cols = lines[i + 1].split(",");
            assertThat(cols[0]).isEqualTo(devices.get(i));
            assertThat(cols[1]).startsWith("trent_et_");
            assertThat(cols[2]).isEqualTo("device");
            assertThat(Instant.parse(cols[3])).isAfter(Instant.now());
        }
    }

    @Test
    void batchWhenInvalidThen400AndNothingCreated() {
        TrentClient c = client();
        String dup = deviceId("dup");
        assertProblem(c.postJson("/api/v1/enrollment-tokens/batch", ADMIN_KEY,
                Map.of("deviceIds", List.of(dup, dup), "profile", "device")), 400, "invalid-request");
        assertProblem(c.postJson("/api/v1/enrollment-tokens/batch", ADMIN_KEY,
                Map.of("deviceIds", List.of(), "profile", "device")), 400, "invalid-request");
        List<String> tooMany = IntStream.range(0, 10_001).mapToObj(i -> "d" + i).toList();
        assertProblem(c.postJson("/api/v1/enrollment-tokens/batch", ADMIN_KEY,
                Map.of("deviceIds", tooMany, "profile", "device")), 400, "invalid-request");
        assertProblem(c.postJson("/api/v1/enrollment-tokens/batch", ADMIN_KEY,
                Map.of("deviceIds", List.of(deviceId("s")), "profile", "server")), 400, "invalid-request");
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ?", Integer.class,
                dup)).isZero();
    }

    @Test
    void certificatesWhenFilteredAndPagedThenOnlyMatchesInOrder() {
        TrentClient c = client();
        String device = deviceId("list");
        List<String> serials = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                    TestCsrs.ecP256("x").pem().getBytes(), "application/json");
            serials.add(r.json().get("serial").asText());
        }
        String gw = deviceId("list-gw");
        c.enroll(c.token(ADMIN_KEY, gw, "server", List.of("gw.example.test")), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);

        JsonNode page0 = c.get("/api/v1/certificates?deviceId=" + device + "&size=2&page=0", ADMIN_KEY, null).json();
        JsonNode page1 = c.get("/api/v1/certificates?deviceId=" + device + "&size=2&page=1", ADMIN_KEY, null).json();

        assertThat(page0.get("totalItems").asInt()).isEqualTo(3);
        assertThat(page0.get("totalPages").asInt()).isEqualTo(2);
        List<String> listed = new ArrayList<>();
        page0.get("items").forEach(n -> listed.add(n.get("serial").asText()));
        page1.get("items").forEach(n -> listed.add(n.get("serial").asText()));
        assertThat(listed).containsExactly(serials.get(2), serials.get(1), serials.get(0));
        assertThat(page0.get("items").get(0).has("certificatePem")).isFalse();

        JsonNode servers = c.get("/api/v1/certificates?profile=server&deviceId=" + gw, ADMIN_KEY, null).json();
        assertThat(servers.get("totalItems").asInt()).isEqualTo(1);
        assertThat(servers.get("items").get(0).get("dnsNames").get(0).asText()).isEqualTo("gw.example.test");
        assertThat(c.get("/api/v1/certificates?status=ISSUED&deviceId=" + device, ADMIN_KEY, null).json()
                .get("totalItems").asInt()).isEqualTo(3);
        assertThat(c.get("/api/v1/certificates?status=REVOKED&deviceId=" + device, ADMIN_KEY, null).json()
                .get("totalItems").asInt()).isZero();
        String soon = Instant.now().plusSeconds(86400).toString();
        String late = Instant.now().plusSeconds(400L * 86400).toString();
        assertThat(c.get("/api/v1/certificates?deviceId=" + device + "&expiringBefore=" + soon, ADMIN_KEY, null)
                .json().get("totalItems").asInt()).isZero();
        assertThat(c.get("/api/v1/certificates?deviceId=" + device + "&expiringBefore=" + late, ADMIN_KEY, null)
                .json().get("totalItems").asInt()).isEqualTo(3);
        assertProblem(c.get("/api/v1/certificates?status=BOGUS", ADMIN_KEY, null), 400, "invalid-request");
        assertProblem(c.get("/api/v1/certificates?expiringBefore=tomorrow", ADMIN_KEY, null), 400, "invalid-request");
        assertProblem(c.get("/api/v1/certificates?size=501", ADMIN_KEY, null), 400, "invalid-request");
    }

    @Test
    void certificateWhenFetchedBySerialThenJsonPemOrDer() throws Exception {
        TrentClient c = client();
        TrentClient.Response enrolled = c.enroll(c.token(ADMIN_KEY, deviceId("get"), "device", null),
                "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), "application/pkix-cert");
        X509Certificate leaf = enrolled.certificates().get(0);
        String serial = leaf.getSerialNumber().toString(16);
        String colons = String.join(":", serial.toUpperCase(java.util.Locale.ROOT).split("(?<=\\G..)"));

        TrentClient.Response json = c.get("/api/v1/certificates/" + serial, ADMIN_KEY, "application/json");
        TrentClient.Response pem = c.get("/api/v1/certificates/" + colons, ADMIN_KEY, null);
        TrentClient.Response der = c.get("/api/v1/certificates/" + serial, ADMIN_KEY, "application/pkix-cert");

        assertThat(json.json().get("serial").asText()).isEqualTo(serial);
        assertThat(pem.contentType()).isEqualTo("application/pem-certificate-chain");
        assertThat(pem.certificates()).hasSize(2);
        assertThat(pem.certificates().get(0)).isEqualTo(leaf);
        assertThat(der.body()).isEqualTo(leaf.getEncoded());
        assertProblem(c.get("/api/v1/certificates/abcdef0123", ADMIN_KEY, null), 404, "not-found");
        assertProblem(c.get("/api/v1/certificates/not-hex", ADMIN_KEY, null), 400, "invalid-request");
    }

    @Test
    void caEndpointsWhenUnauthenticatedThenRootAndChainServed() throws Exception {
        TrentClient c = client();
        TrentClient.Response root = c.get("/api/v1/ca/root", null, null);
        TrentClient.Response rootDer = c.get("/api/v1/ca/root", null, "application/pkix-cert");
        TrentClient.Response chain = c.get("/api/v1/ca/chain", null, null);

        assertThat(root.status()).isEqualTo(200);
        X509Certificate rootCert = root.certificates().get(0);
        assertThat(root.certificates()).hasSize(1);
        assertThat(rootCert.getSubjectX500Principal()).isEqualTo(rootCert.getIssuerX500Principal());
        rootCert.verify(rootCert.getPublicKey());
        assertThat(rootDer.contentType()).isEqualTo("application/pkix-cert");
        assertThat(rootDer.body()).isEqualTo(rootCert.getEncoded());
        List<X509Certificate> certs = chain.certificates();
        assertThat(certs).hasSize(2);
        assertThat(certs.get(1)).isEqualTo(rootCert);
        certs.get(0).verify(rootCert.getPublicKey());
        assertThat(certs.get(0).getBasicConstraints()).isEqualTo(0);
    }

    @Autowired
    List<org.springframework.security.web.SecurityFilterChain> securityChains;

    @Test
    void openChainsWhenDevicesOrAnyoneAskThenOnlyTheFiltersThatShapeTheAnswer() throws Exception {
        for (String path : List.of("/api/v1/enroll", "/.well-known/est/simpleenroll", "/ocsp", "/crl/x.crl",
                "/api/v1/ca/chain")) {
            var request = new org.springframework.mock.web.MockHttpServletRequest("POST", path);
            request.setServletPath(path);
            var chain = securityChains.stream().filter(c -> c.matches(request)).findFirst().orElseThrow();
            List<String> filters = chain.getFilters().stream().map(f -> f.getClass().getSimpleName()).toList();
            assertThat(filters).as(path).contains("HeaderWriterFilter", "SecurityContextHolderFilter")
                    .doesNotContain("AuthorizationFilter", "AnonymousAuthenticationFilter",
                            "SecurityContextHolderAwareRequestFilter", "ExceptionTranslationFilter",
                            "ApiKeyAuthenticationFilter");
        }
        // The security headers are written as before on those paths.
        TrentClient c = client();
        TrentClient.Response enrolled = c.enroll(c.token(ADMIN_KEY, deviceId("headers"), "device", null),
                "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null);
        TrentClient.Response chain = c.get("/api/v1/ca/chain", null, null);
        for (TrentClient.Response r : List.of(enrolled, chain)) {
            assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
            assertThat(r.header("X-Frame-Options")).isEqualTo("DENY");
        }
        assertThat(enrolled.status()).isEqualTo(201);
        assertThat(enrolled.header("Cache-Control")).contains("no-store");
        assertThat(enrolled.headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Autowired
    dev.trent.audit.AuditLog auditLog;

    @Autowired
    dev.trent.issuance.IssuanceService issuance;

    @Test
    void beansCalledInsideEveryEnrollmentWhenWiredThenPlainObjectsNotProxies() {
        // Their transactions are programmatic: a proxy would put an interceptor lookup and a
        // reflective call on every enrollment's path.
        assertThat(org.springframework.aop.support.AopUtils.isAopProxy(auditLog)).isFalse();
        assertThat(org.springframework.aop.support.AopUtils.isAopProxy(issuance)).isFalse();
    }

    @Test
    void everyMappedPathWhenListedThenCoveredByAnExplicitSecurityChain() {
        Set<String> allowedPrefixes = Set.of("/api/v1/", "/ca/", "/crl/", "/ocsp", "/.well-known/est/", "/openapi.yaml",
                "/swagger-ui", "/v3/api-docs/swagger-config", "/console");
        // springdoc's generated document: mapped, but deliberately left to the deny-all chain.
        Set<String> unreachable = Set.of("/v3/api-docs", "/v3/api-docs.yaml");
        for (String path : unreachable) {
            assertProblem(client().get(path, ADMIN_KEY, null), 404, "not-found");
        }
        for (RequestMappingInfo info : mappings.getHandlerMethods().keySet()) {
            for (String pattern : info.getPatternValues()) {
                if (pattern.equals("/error") || unreachable.contains(pattern)) {
                    continue;
                }
                assertThat(allowedPrefixes.stream().anyMatch(pattern::startsWith))
                        .as("path %s must sit under a prefix with an explicit security chain", pattern).isTrue();
            }
        }
        assertProblem(client().get("/nothing-here", null, null), 404, "not-found");
    }
}
