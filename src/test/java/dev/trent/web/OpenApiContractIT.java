package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.PathContainer;
import org.springframework.web.servlet.mvc.method.RequestMappingInfo;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping;
import org.springframework.web.bind.annotation.RequestMethod;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import org.yaml.snakeyaml.Yaml;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * {@code openapi.yaml} (repository root) against the running application: the documented
 * operations are exactly the mapped ones, and a few documented behaviours hold over real HTTP
 * (credentials, roles, content negotiation, response shapes).
 */
class OpenApiContractIT extends IntegrationTest {

    private static final Path SPEC_FILE = Path.of("openapi.yaml");
    private static final Set<String> HTTP_METHODS = Set.of("get", "put", "post", "delete", "patch", "head",
            "options", "trace");
    private static final Pattern TEMPLATE = Pattern.compile("\\{([^}/]+)}");
    /** Ascending: each role includes the ones before it. */
    private static final List<String> ROLES = List.of("AUDITOR", "OPERATOR", "ADMIN");
    private static final String PROBLEM_JSON = "application/problem+json";
    private static final String PROBLEM_BASE = "https://trent.dev/problems/";
    /** A path parameter value that is valid hex and a valid long, and names nothing. */
    private static final String ABSENT = "999999999";
    /** Spring Boot's own error endpoint; not part of Trent's API. */
    private static final String SPRING_ERROR_PATH = "/error";

    private static Map<String, Object> spec;

    @Autowired
    @Qualifier("requestMappingHandlerMapping")
    private RequestMappingHandlerMapping handlerMapping;

    /** Actuator's endpoints (health) have their own handler mapping; they are part of the contract too. */
    @Autowired
    private org.springframework.boot.webmvc.actuate.endpoint.web.WebMvcEndpointHandlerMapping endpointMapping;

    @BeforeAll
    static void loadSpec() throws IOException {
        try (Reader in = Files.newBufferedReader(SPEC_FILE, StandardCharsets.UTF_8)) {
            spec = new Yaml().load(in);
        }
    }

    // ---------------------------------------------------------------- documented vs mapped

    @Test
    void handlerMappingsWhenComparedWithSpecThenEveryDocumentedOperationIsMapped() {
        List<Mapped> mapped = mapped();
        Map<Mapped, List<String>> routedTo = new HashMap<>();
        SoftAssertions soft = new SoftAssertions();
        for (Operation op : documented()) {
            Optional<Mapped> route = route(op, mapped);
            soft.assertThat(route).as("%s is documented but no handler method serves it", op).isPresent();
            route.ifPresent(m -> routedTo.computeIfAbsent(m, k -> new ArrayList<>()).add(op.toString()));
        }
        routedTo.forEach((m, ops) -> soft.assertThat(ops)
                .as("documented operations %s are all served by one mapping %s", ops, m).hasSize(1));
        soft.assertAll();
    }

    @Test
    void handlerMappingsWhenComparedWithSpecThenEveryMappedOperationIsDocumented() {
        List<Mapped> mapped = mapped();
        assertThat(mapped).as("the handler mapping is empty; wrong bean?").isNotEmpty();
        Set<Mapped> documentedRoutes = new LinkedHashSet<>();
        for (Operation op : documented()) {
            route(op, mapped).ifPresent(documentedRoutes::add);
        }
        List<String> undocumented = mapped.stream().filter(m -> !documentedRoutes.contains(m)).map(Mapped::toString)
                .toList();
        assertThat(undocumented).as("mapped in the application but missing from %s", SPEC_FILE).isEmpty();
    }

    @Test
    void documentWhenFetchedWithoutCredentialsThenItIsThisFileAndSwaggerUiShowsIt() throws IOException {
        TrentClient c = client();
        TrentClient.Response doc = c.get("/openapi.yaml", null, null);
        assertThat(doc.status()).isEqualTo(200);
        assertThat(doc.contentType()).startsWith("application/yaml");
        assertThat(doc.body()).as("the served contract is the repository's file")
                .isEqualTo(java.nio.file.Files.readAllBytes(SPEC_FILE));

        TrentClient.Response ui = c.get("/swagger-ui/index.html", null, null);
        assertThat(ui.status()).isEqualTo(200);
        assertThat(ui.text()).contains("Swagger UI");
        TrentClient.Response config = c.get("/v3/api-docs/swagger-config", null, null);
        assertThat(config.status()).isEqualTo(200);
        assertThat(config.json().get("url").asText()).as("the UI loads the contract").isEqualTo("/openapi.yaml");
        assertThat(c.get("/v3/api-docs", null, null).status()).as("no generated document beside the contract")
                .isEqualTo(404);
    }

    @Test
    void specWhenReadThenOperationsDeclarePathParametersSecurityAndProblemErrors() {
        Map<String, Object> schemes = map(map(spec.get("components")).get("securitySchemes"));
        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(String.valueOf(spec.get("openapi"))).startsWith("3.1");
        for (String ref : refs(spec, new ArrayList<>())) {
            soft.assertThat(resolvePointer(ref)).as("$ref %s resolves", ref).isNotNull();
        }
        for (Operation op : documented()) {
            Set<String> templated = new TreeSet<>();
            Matcher m = TEMPLATE.matcher(op.path());
            while (m.find()) {
                templated.add(m.group(1));
            }
            soft.assertThat(op.pathParameters()).as("%s declares its path parameters", op).isEqualTo(templated);

            soft.assertThat(op.definition()).as("%s states its security explicitly", op).containsKey("security");
            for (Map<String, Object> requirement : op.security()) {
                soft.assertThat(schemes).as("%s uses a defined security scheme", op)
                        .containsKeys(requirement.keySet().toArray(String[]::new));
            }
            if (op.requiredRole().isPresent()) {
                soft.assertThat(ROLES).as("%s names a known role", op).contains(op.requiredRole().get());
                soft.assertThat(op.responses()).as("%s documents 401 and 403", op).containsKeys("401", "403");
            }
            soft.assertThat(op.responses().keySet()).as("%s documents a success", op)
                    .anyMatch(code -> code.startsWith("2"));
            op.responses().forEach((code, response) -> {
                // Errors carry problem+json; 2xx and 3xx (a 304 has no body) do not. Spring Boot's
                // health endpoint is the exception: its 503 is its answer (DOWN, the health
                // document).
                boolean actuator = op.path().startsWith("/actuator/health") && code.equals("503");
                if ((code.startsWith("4") || code.startsWith("5")) && !actuator) {
                    soft.assertThat(content(response)).as("%s %s is problem+json", op, code)
                            .containsOnlyKeys(PROBLEM_JSON);
                }
            });
        }
        soft.assertAll();
    }

    // ---------------------------------------------------------------- credentials and roles

    @Test
    void operatorOperationWhenNoCredentialsThenDocumented401Problem() {
        TrentClient client = client();
        SoftAssertions soft = new SoftAssertions();
        for (Operation op : documented()) {
            if (op.requiredRole().isEmpty()) {
                continue;
            }
            TrentClient.Response r = call(client, op, op.samplePath(Map.of()), null);
            soft.assertThat(r.status()).as("%s without credentials: %s", op, r).isEqualTo(401);
            assertDocumented(soft, op, r, op + " without credentials");
            soft.assertThat(r.header("WWW-Authenticate")).as("%s", op).isEqualTo("Bearer");
            soft.assertThat(problemType(r)).as("%s", op).isEqualTo(PROBLEM_BASE + "unauthorized");
        }
        soft.assertAll();
    }

    @Test
    void operatorOperationWhenEnrollmentTokenThenDocumented401Problem() {
        TrentClient client = client();
        String token = client.token(ADMIN_KEY, deviceId("oa-et"), "device", null);
        SoftAssertions soft = new SoftAssertions();
        for (Operation op : documented()) {
            if (op.requiredRole().isPresent()) {
                TrentClient.Response r = call(client, op, op.samplePath(Map.of()), token);
                soft.assertThat(r.status()).as("%s with an enrollment token: %s", op, r).isEqualTo(401);
                soft.assertThat(problemType(r)).as("%s", op).isEqualTo(PROBLEM_BASE + "unauthorized");
                assertDocumented(soft, op, r, op + " with an enrollment token");
            }
        }
        soft.assertAll();
    }

    @Test
    void operatorOperationWhenRoleBelowDocumentedRoleThen403ElseAllowed() {
        TrentClient client = client();
        Map<String, String> keys = new LinkedHashMap<>();
        for (String role : ROLES) {
            keys.put(role, role.equals("ADMIN") ? ADMIN_KEY : apiKey(client, role));
        }
        SoftAssertions soft = new SoftAssertions();
        for (Operation op : documented()) {
            if (op.requiredRole().isEmpty()) {
                continue;
            }
            int required = ROLES.indexOf(op.requiredRole().get());
            for (String role : ROLES) {
                // Bodies are empty JSON objects and path values name nothing: allowed calls are
                // refused as 400 or 404 (or list), so this test changes no state.
                TrentClient.Response r = call(client, op, op.samplePath(Map.of()), keys.get(role));
                String what = op + " as " + role + ": " + r;
                if (ROLES.indexOf(role) < required) {
                    soft.assertThat(r.status()).as(what).isEqualTo(403);
                    soft.assertThat(problemType(r)).as(what).isEqualTo(PROBLEM_BASE + "forbidden");
                } else {
                    soft.assertThat(r.status()).as(what).isNotIn(401, 403);
                }
                assertDocumented(soft, op, r, what);
            }
        }
        soft.assertAll();
    }

    @Test
    void enrollWhenNoTokenOrAnApiKeyThenDocumented401WithBearerChallenge() {
        Operation enroll = operation("post", "/api/v1/enroll");
        assertThat(enroll.security()).singleElement().satisfies(s -> assertThat(s).containsOnlyKeys("enrollmentToken"));
        byte[] csr = TestCsrs.ecP256("x").pem().getBytes(StandardCharsets.US_ASCII);
        for (String credential : new String[] {null, ADMIN_KEY}) {
            TrentClient.Response r = client().enroll(credential, "application/x-pem-file", csr, null);
            assertThat(r.status()).as(r.toString()).isEqualTo(401);
            assertThat(r.header("WWW-Authenticate")).isEqualTo("Bearer");
            assertThat(problemType(r)).isEqualTo(PROBLEM_BASE + "enrollment-token-invalid");
            assertDocumented(enroll, r, "POST /api/v1/enroll with " + (credential == null ? "no token" : "an API key"));
        }
    }

    // ---------------------------------------------------------------- documented responses

    @Test
    void enrollWhenValidThenDocumented201AndRetryDocumented200WithSameCertificate() {
        Operation enroll = operation("post", "/api/v1/enroll");
        TrentClient client = client();
        String token = client.token(ADMIN_KEY, deviceId("oa-enroll"), "device", null);
        TestCsrs.Csr csr = TestCsrs.ecP256("x");

        TrentClient.Response created = client.enroll(token, "application/x-pem-file",
                csr.pem().getBytes(StandardCharsets.US_ASCII), null);
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        assertDocumented(enroll, created, "enroll");
        assertThat(baseType(created.contentType())).as("no Accept: the first documented type")
                .isEqualTo(firstContentType(enroll.responses().get("201")));
        assertThat(headers(enroll.responses().get("201"))).containsKeys("Location", "Cache-Control");
        assertThat(created.header("Location")).startsWith("/api/v1/certificates/");
        assertThat(created.certificates()).hasSize(2);

        TrentClient.Response retried = client.enroll(token, "application/pkcs10",
                TestCsrs.forKey(csr.keys(), "x").der(), "application/json");
        assertThat(retried.status()).as(retried.toString()).isEqualTo(200);
        assertDocumented(enroll, retried, "enroll retry");
        assertThat(retried.header("Location")).isEqualTo(created.header("Location"));
        assertThat(created.header("Location")).endsWith("/" + retried.json().get("serial").asString());

        TrentClient.Response otherKey = client.enroll(token, "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(StandardCharsets.US_ASCII), null);
        assertThat(otherKey.status()).as(otherKey.toString()).isEqualTo(409);
        assertDocumented(enroll, otherKey, "enroll with a used token");
        assertThat(problemType(otherKey)).isEqualTo(PROBLEM_BASE + "enrollment-token-used");
    }

    @Test
    void getOperationWhenEachDocumentedAcceptThenThatContentTypeAndFirstIsDefault() {
        TrentClient client = client();
        String token = client.token(ADMIN_KEY, deviceId("oa-get"), "device", null);
        JsonNode issued = client.enroll(token, "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(StandardCharsets.US_ASCII), "application/json").json();
        // A webhook endpoint (for /api/v1/webhooks/{id}): nothing listens on port 9, nothing subscribes to expiring.
        TrentClient.Response webhook = client.postJson("/api/v1/webhooks", ADMIN_KEY,
                Map.of("url", "http://127.0.0.1:9/contract", "eventTypes", List.of("certificate.expiring")));
        assertThat(webhook.status()).as(webhook.toString()).isEqualTo(201);
        assertDocumented(operation("post", "/api/v1/webhooks"), webhook, "POST /api/v1/webhooks");
        Map<String, String> values = Map.of("serial", issued.get("serial").asString(), "issuerId",
                issued.get("issuerId").asString(), "group", "readiness", "label", "device", "id",
                webhook.json().get("id").asString());

        SoftAssertions soft = new SoftAssertions();
        for (Operation op : documented()) {
            if (!op.method().equals("get")) {
                continue;
            }
            String path = op.samplePath(values);
            String key = op.requiredRole().isPresent() ? ADMIN_KEY : null;
            Map<String, Object> ok = map(op.responses().get("200"));
            TrentClient.Response byDefault = client.get(path, key, null);
            soft.assertThat(byDefault.status()).as("%s %s", op, byDefault).isEqualTo(200);
            assertDocumented(soft, op, byDefault, op + " without Accept");
            soft.assertThat(baseType(byDefault.contentType())).as("%s without Accept", op)
                    .isEqualTo(firstContentType(ok));
            for (String type : content(ok).keySet()) {
                TrentClient.Response r = client.get(path, key, type);
                soft.assertThat(r.status()).as("%s Accept %s: %s", op, type, r).isEqualTo(200);
                soft.assertThat(baseType(r.contentType())).as("%s Accept %s", op, type).isEqualTo(type);
                assertDocumented(soft, op, r, op + " Accept " + type);
            }
            TrentClient.Response unacceptable = client.get(path, key, "image/png");
            if (op.responses().containsKey("406")) {
                soft.assertThat(unacceptable.status()).as("%s Accept image/png: %s", op, unacceptable).isEqualTo(406);
                soft.assertThat(problemType(unacceptable)).as("%s", op).isEqualTo(PROBLEM_BASE + "not-acceptable");
                assertDocumented(soft, op, unacceptable, op + " Accept image/png");
            } else {
                soft.assertThat(unacceptable.status()).as("%s Accept image/png (no 406 documented): %s", op,
                        unacceptable).isEqualTo(200);
            }
        }
        Operation delete = operation("delete", "/api/v1/webhooks/{id}");
        TrentClient.Response deleted = call(client, delete, delete.samplePath(values), ADMIN_KEY);
        soft.assertThat(deleted.status()).as(deleted.toString()).isEqualTo(200);
        assertDocumented(soft, delete, deleted, "DELETE /api/v1/webhooks/{id}");
        soft.assertAll();
    }

    @Test
    void publicOperationWhenUnknownResourceThenDocumentedStatus() {
        TrentClient client = client();
        SoftAssertions soft = new SoftAssertions();
        for (Operation op : documented()) {
            if (!op.isPublic()) {
                continue;
            }
            TrentClient.Response r = call(client, op, op.samplePath(Map.of()), null);
            soft.assertThat(r.status()).as("%s needs no credentials: %s", op, r).isNotIn(401, 403);
            assertDocumented(soft, op, r, op + " for a resource that does not exist");
        }
        soft.assertAll();
    }

    @Test
    void createEnrollmentTokenBatchWhenAcceptJsonOrCsvThenDocumentedRepresentation() {
        Operation batch = operation("post", "/api/v1/enrollment-tokens/batch");
        TrentClient client = client();
        List<String> devices = List.of(deviceId("oa-b1"), deviceId("oa-b2"));

        TrentClient.Response json = client.postJson(batch.path(), ADMIN_KEY,
                Map.of("deviceIds", devices, "profile", "device"), "application/json");
        assertThat(json.status()).as(json.toString()).isEqualTo(201);
        assertDocumented(batch, json, "batch as JSON");
        assertThat(json.json().get("tokens")).hasSize(2);

        TrentClient.Response csv = client.postJson(batch.path(), ADMIN_KEY,
                Map.of("deviceIds", List.of(deviceId("oa-b3")), "profile", "device"), "text/csv");
        assertThat(csv.status()).as(csv.toString()).isEqualTo(201);
        assertDocumented(batch, csv, "batch as CSV");
        assertThat(csv.header("X-Trent-Batch-Id")).matches("[0-9a-f-]{36}");
        assertThat(csv.text()).startsWith("device_id,token,profile,expires_at\r\n").contains(",trent_et_");
    }

    // ---------------------------------------------------------------- the spec, read

    /** One documented operation. */
    record Operation(String path, String method, Map<String, Object> definition) {

        Map<String, Object> responses() {
            return map(definition.get("responses"));
        }

        /** The security requirements; empty for public operations. */
        List<Map<String, Object>> security() {
            Object s = definition.get("security");
            if (s == null) {
                s = spec.get("security");
            }
            List<Map<String, Object>> out = new ArrayList<>();
            if (s instanceof List<?> list) {
                for (Object o : list) {
                    out.add(map(o));
                }
            }
            return out;
        }

        boolean isPublic() {
            return security().isEmpty();
        }

        /** The role named in the {@code apiKey} requirement (OpenAPI 3.1 role names). */
        Optional<String> requiredRole() {
            for (Map<String, Object> requirement : security()) {
                if (requirement.get("apiKey") instanceof List<?> roles && !roles.isEmpty()) {
                    return Optional.of(String.valueOf(roles.get(0)));
                }
            }
            return Optional.empty();
        }

        Set<String> pathParameters() {
            Set<String> names = new TreeSet<>();
            if (definition.get("parameters") instanceof List<?> params) {
                for (Object p : params) {
                    Map<String, Object> param = map(resolve(p));
                    if ("path".equals(param.get("in"))) {
                        names.add(String.valueOf(param.get("name")));
                    }
                }
            }
            return names;
        }

        /** The path with each template filled from {@code values}, else with a value that names nothing. */
        String samplePath(Map<String, String> values) {
            Matcher m = TEMPLATE.matcher(path);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(sb, Matcher.quoteReplacement(values.getOrDefault(m.group(1), ABSENT)));
            }
            m.appendTail(sb);
            return sb.toString();
        }

        @Override
        public String toString() {
            return method.toUpperCase(Locale.ROOT) + " " + path;
        }
    }

    private static List<Operation> documented() {
        List<Operation> ops = new ArrayList<>();
        map(spec.get("paths")).forEach((path, item) -> map(item).forEach((method, definition) -> {
            if (HTTP_METHODS.contains(method)) {
                ops.add(new Operation(path, method, map(definition)));
            }
        }));
        assertThat(ops).as("%s documents no operations", SPEC_FILE).isNotEmpty();
        return ops;
    }

    private static Operation operation(String method, String path) {
        return documented().stream().filter(o -> o.method().equals(method) && o.path().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError(method + " " + path + " is not documented"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o == null ? Map.of() : (Map<String, Object>) o;
    }

    /** Follows a local {@code $ref}, if any. */
    private static Object resolve(Object node) {
        Object current = node;
        for (int i = 0; i < 10 && current instanceof Map<?, ?> m && m.get("$ref") instanceof String ref; i++) {
            current = resolvePointer(ref);
        }
        return current;
    }

    private static Object resolvePointer(String ref) {
        if (!ref.startsWith("#/")) {
            return null;
        }
        Object current = spec;
        for (String part : ref.substring(2).split("/")) {
            if (!(current instanceof Map<?, ?> m)) {
                return null;
            }
            current = m.get(part.replace("~1", "/").replace("~0", "~"));
        }
        return current;
    }

    private static List<String> refs(Object node, List<String> out) {
        if (node instanceof Map<?, ?> m) {
            m.forEach((k, v) -> {
                if ("$ref".equals(k) && v instanceof String s) {
                    out.add(s);
                } else {
                    refs(v, out);
                }
            });
        } else if (node instanceof Collection<?> c) {
            c.forEach(v -> refs(v, out));
        }
        return out;
    }

    private static Map<String, Object> content(Object response) {
        return map(map(resolve(response)).get("content"));
    }

    private static Map<String, Object> headers(Object response) {
        return map(map(resolve(response)).get("headers"));
    }

    private static String firstContentType(Object response) {
        return content(response).keySet().iterator().next();
    }

    private static Map<String, Object> schema(Object response, String type) {
        return map(resolve(map(content(response).get(type)).get("schema")));
    }

    private static String baseType(String contentType) {
        return contentType == null ? null : contentType.split(";")[0].strip().toLowerCase(Locale.ROOT);
    }

    // ---------------------------------------------------------------- the application, mapped

    /** One mapped path pattern and method of a handler method. */
    record Mapped(String pattern, String method) {

        PathPattern parsed() {
            return PathPatternParser.defaultInstance.parse(pattern);
        }

        @Override
        public String toString() {
            return (method == null ? "ANY" : method.toUpperCase(Locale.ROOT)) + " " + pattern;
        }
    }

    private List<Mapped> mapped() {
        List<Mapped> out = new ArrayList<>();
        List<RequestMappingInfo> infos = new ArrayList<>();
        // springdoc's own handlers (Swagger UI's page and configuration, and the generated
        // document, which no security chain admits) are the documentation's machinery, not API.
        // The console's HTML pages (dev.trent.console, docs/console.md) are not the API either.
        handlerMapping.getHandlerMethods().forEach((info, method) -> {
            if (!method.getBeanType().getName().startsWith("org.springdoc.")
                    && !method.getBeanType().getName().startsWith("dev.trent.console.")) {
                infos.add(info);
            }
        });
        infos.addAll(endpointMapping.getHandlerMethods().keySet());
        for (RequestMappingInfo info : infos) {
            Set<RequestMethod> methods = info.getMethodsCondition().getMethods();
            for (String pattern : info.getPatternValues()) {
                if (pattern.equals(SPRING_ERROR_PATH)) {
                    continue;
                }
                if (methods.isEmpty()) {
                    out.add(new Mapped(pattern, null));
                }
                for (RequestMethod method : methods) {
                    out.add(new Mapped(pattern, method.name().toLowerCase(Locale.ROOT)));
                }
            }
        }
        return out;
    }

    /**
     * The mapping that serves a documented operation: among the mappings whose method matches
     * and whose pattern matches the documented path (templates filled in), the most specific,
     * as Spring MVC chooses.
     */
    private static Optional<Mapped> route(Operation op, List<Mapped> mapped) {
        PathContainer sample = PathContainer.parsePath(op.samplePath(Map.of()));
        return mapped.stream()
                .filter(m -> m.method() == null || m.method().equals(op.method()))
                .filter(m -> m.parsed().matches(sample))
                .min(Comparator.comparing(Mapped::parsed, PathPattern.SPECIFICITY_COMPARATOR));
    }

    // ---------------------------------------------------------------- real HTTP helpers

    private static TrentClient.Response call(TrentClient client, Operation op, String path, String bearer) {
        Map<String, String> headers = new HashMap<>();
        if (bearer != null) {
            headers.put("Authorization", "Bearer " + bearer);
        }
        byte[] body = null;
        if (op.definition().containsKey("requestBody")) {
            headers.put("Content-Type", "application/json");
            body = "{}".getBytes(StandardCharsets.UTF_8);
        }
        return client.send(op.method().toUpperCase(Locale.ROOT), path, headers, body);
    }

    private static String problemType(TrentClient.Response r) {
        String type = baseType(r.contentType());
        if (!PROBLEM_JSON.equals(type)) {
            return "(not problem+json but " + type + ")";
        }
        JsonNode t = r.json().get("type");
        return t == null ? null : t.asString();
    }

    private static void assertDocumented(Operation op, TrentClient.Response r, String what) {
        SoftAssertions soft = new SoftAssertions();
        assertDocumented(soft, op, r, what);
        soft.assertAll();
    }

    /**
     * The response is one the operation documents: its status, its content type, its required
     * headers (with their {@code const} values), and for JSON the shape of its body.
     */
    private static void assertDocumented(SoftAssertions soft, Operation op, TrentClient.Response r, String what) {
        String status = String.valueOf(r.status());
        soft.assertThat(op.responses()).as("%s: status %s is documented (%s)", what, status, r).containsKey(status);
        Object response = op.responses().get(status);
        if (response == null) {
            return;
        }
        String type = baseType(r.contentType());
        Map<String, Object> content = content(response);
        if (!content.isEmpty() || r.body().length > 0) {
            soft.assertThat(content).as("%s: content type %s is documented for %s", what, type, status)
                    .containsKey(type);
        }
        headers(response).forEach((name, header) -> {
            Map<String, Object> h = map(resolve(header));
            String value = r.header(name);
            if (Boolean.TRUE.equals(h.get("required"))) {
                soft.assertThat(value).as("%s: required header %s", what, name).isNotNull();
            }
            Object constant = map(h.get("schema")).get("const");
            if (value != null && constant != null) {
                soft.assertThat(value).as("%s: header %s", what, name).isEqualTo(String.valueOf(constant));
            }
        });
        if (type != null && type.endsWith("json") && content.containsKey(type)) {
            assertConforms(soft, r.json(), schema(response, type), what);
        }
    }

    private static String apiKey(TrentClient client, String role) {
        TrentClient.Response r = client.postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", deviceId("contract-" + role.toLowerCase(Locale.ROOT)), "role", role));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertConforms(r.json(), schema(operation("post", "/api/v1/api-keys").responses().get("201"),
                "application/json"), "POST /api/v1/api-keys 201");
        return r.json().get("key").asString();
    }

    private static void assertConforms(JsonNode node, Map<String, Object> schema, String what) {
        SoftAssertions soft = new SoftAssertions();
        assertConforms(soft, node, schema, what);
        soft.assertAll();
    }

    /**
     * A small structural check: objects carry every required property and only documented
     * ones; arrays' items are checked in turn. Enough to catch a renamed or leaked field.
     */
    private static void assertConforms(SoftAssertions soft, JsonNode node, Map<String, Object> schema, String what) {
        Map<String, Object> s = map(resolve(schema));
        if (node.isArray()) {
            for (JsonNode item : node) {
                assertConforms(soft, item, map(resolve(s.get("items"))), what + "[]");
            }
            return;
        }
        if (!node.isObject()) {
            return;
        }
        Map<String, Object> properties = new LinkedHashMap<>();
        Set<String> required = new LinkedHashSet<>();
        collect(s, properties, required);
        Set<String> present = new LinkedHashSet<>();
        node.properties().forEach(e -> present.add(e.getKey()));
        soft.assertThat(present).as("%s has the required properties", what).containsAll(required);
        if (!Boolean.TRUE.equals(s.get("additionalProperties"))) { // a free-form object says so explicitly
            soft.assertThat(properties.keySet()).as("%s has only documented properties", what).containsAll(present);
        }
        for (Map.Entry<String, Object> p : properties.entrySet()) {
            JsonNode value = node.get(p.getKey());
            if (value != null && (value.isObject() || value.isArray())) {
                assertConforms(soft, value, map(resolve(p.getValue())), what + "." + p.getKey());
            }
        }
    }

    private static void collect(Map<String, Object> schema, Map<String, Object> properties, Set<String> required) {
        Map<String, Object> s = map(resolve(schema));
        properties.putAll(map(s.get("properties")));
        if (s.get("required") instanceof List<?> r) {
            r.forEach(x -> required.add(String.valueOf(x)));
        }
        if (s.get("allOf") instanceof List<?> parts) {
            parts.forEach(part -> collect(map(resolve(part)), properties, required));
        }
    }
}
