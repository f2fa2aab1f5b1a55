package dev.trent.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Test;

import dev.trent.support.IntegrationTest;
import dev.trent.support.Prometheus;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * Metrics and health as operators and probes see them: {@code /actuator/prometheus} for API keys
 * only, with Trent's meters moving as enrollments, OCSP requests and revocations happen; health
 * with details for an API key and the status alone for anyone else; liveness needs nothing.
 */
class ObservabilityIT extends IntegrationTest {

    private String auditorKey() {
        TrentClient.Response r = client().postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", deviceId("metrics-auditor"), "role", "AUDITOR"));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("key").asString();
    }

    private Prometheus scrape(String key) {
        TrentClient.Response r = client().get("/actuator/prometheus", key, null);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("text/plain");
        return new Prometheus(r.text());
    }

    private static Map<String, String> enrollment(String outcome, String profile, String problem) {
        return Map.of("method", "token", "outcome", outcome, "profile", profile, "problem", problem);
    }

    private TrentClient.Response ocsp(X509Certificate issuer, BigInteger serial) throws Exception {
        CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                new X509CertificateHolder(issuer.getEncoded()), serial);
        byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
        return client().send("POST", "/ocsp", Map.of("Content-Type", "application/ocsp-request"), request);
    }

    @Test
    void prometheusWhenNoKeyOrNotAnApiKeyThen401ProblemAndWithAuditorKeyThen200() {
        TrentClient c = client();
        for (String credential : new String[] {null, "trent_ak_unknown-key-0123456789abcdefghijklmnop",
            c.token(ADMIN_KEY, deviceId("metrics-et"), "device", null)}) {
            TrentClient.Response r = c.get("/actuator/prometheus", credential, null);
            assertThat(r.status()).as("credential %s: %s", credential, r).isEqualTo(401);
            assertThat(r.contentType()).isEqualTo("application/problem+json");
            assertThat(r.json().get("type").asString()).isEqualTo("https://trent.dev/problems/unauthorized");
            assertThat(r.text()).doesNotContain("trent_");
        }
        assertThat(scrape(auditorKey()).text()).contains("trent_enrollments_total");
    }

    @Test
    void metricsWhenEnrollOcspAndRevokeThenTheirSeriesIncrease() throws Exception {
        String key = auditorKey();
        TrentClient c = client();
        Prometheus before = scrape(key);

        // An enrollment, its retry, and a refusal (unknown token: the profile is not known yet).
        String token = c.token(ADMIN_KEY, deviceId("metrics"), "device", null);
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        TrentClient.Response issued = c.enroll(token, "application/x-pem-file",
                csr.pem().getBytes(StandardCharsets.US_ASCII), null);
        assertThat(issued.status()).as(issued.toString()).isEqualTo(201);
        assertThat(c.enroll(token, "application/x-pem-file", csr.pem().getBytes(StandardCharsets.US_ASCII), null)
                .status()).isEqualTo(200);
        assertThat(c.enroll("trent_et_unknown", "application/x-pem-file",
                csr.pem().getBytes(StandardCharsets.US_ASCII), null).status()).isEqualTo(401);
        X509Certificate leaf = issued.certificates().get(0);
        X509Certificate intermediate = issued.certificates().get(1);
        String serial = leaf.getSerialNumber().toString(16);
        String issuerId = c.get("/api/v1/certificates/" + serial, ADMIN_KEY, "application/json").json()
                .get("issuerId").asString();

        // OCSP: signed now and cached (miss), then from the cache (hit); garbage is malformed.
        assertThat(ocsp(intermediate, leaf.getSerialNumber()).status()).isEqualTo(200);
        assertThat(ocsp(intermediate, leaf.getSerialNumber()).status()).isEqualTo(200);
        assertThat(c.send("POST", "/ocsp", Map.of("Content-Type", "application/ocsp-request"), new byte[] {1, 2, 3})
                .status()).isEqualTo(200);

        // A revocation, and OCSP saying so (the cache was emptied: a miss).
        assertThat(c.postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY, Map.of("reason", "superseded"))
                .status()).isEqualTo(200);
        assertThat(ocsp(intermediate, leaf.getSerialNumber()).status()).isEqualTo(200);

        Prometheus after = scrape(key);
        Map<String, String> issuerTag = Map.of("issuer", issuerId);
        String signer = pkcs11Run() ? "pkcs11" : "keystore";
        Map<String, String> signerTags = Map.of("issuer", issuerId, "signer", signer);
        String[][] increments = {
            {"trent_enrollments_total", "issued", "device", "none"},
            {"trent_enrollments_total", "retried", "device", "none"},
            {"trent_enrollments_total", "refused", "unknown", "enrollment-token-invalid"},
        };
        for (String[] e : increments) {
            Map<String, String> labels = enrollment(e[1], e[2], e[3]);
            assertThat(delta(before, after, e[0], labels)).as("%s %s", e[0], labels).isEqualTo(1.0);
        }
        assertThat(delta(before, after, "trent_enrollments_total", enrollment("issued", "server", "none")))
                .as("another profile's series").isEqualTo(0.0);
        assertThat(delta(before, after, "trent_issuance_seconds_count", Map.of("profile", "device"))).isEqualTo(1.0);
        assertThat(delta(before, after, "trent_ocsp_requests_total", Map.of("status", "good", "cache", "miss")))
                .isEqualTo(1.0);
        assertThat(delta(before, after, "trent_ocsp_requests_total", Map.of("status", "good", "cache", "hit")))
                .isEqualTo(1.0);
        assertThat(delta(before, after, "trent_ocsp_requests_total", Map.of("status", "revoked", "cache", "miss")))
                .isEqualTo(1.0);
        assertThat(delta(before, after, "trent_ocsp_requests_total", Map.of("status", "malformed", "cache", "bypass")))
                .isEqualTo(1.0);
        assertThat(delta(before, after, "trent_revocations_total", Map.of("reason", "superseded"))).isEqualTo(1.0);
        assertThat(delta(before, after, "trent_revocations_total", Map.of("reason", "keyCompromise"))).isEqualTo(0.0);
        assertThat(delta(before, after, "trent_signer_seconds_count", signerTags))
                .as("at least the certificate's signature").isGreaterThanOrEqualTo(1.0);
        assertThat(delta(before, after, "trent_signer_errors_total", signerTags)).isEqualTo(0.0);

        // The revocation makes a new CRL within trent.crl.batch-delay (2 s).
        Prometheus crl = after;
        for (int i = 0; i < 50 && !(delta(before, crl, "trent_crl_generation_seconds_count", issuerTag) >= 1); i++) {
            Thread.sleep(200);
            crl = scrape(key);
        }
        assertThat(delta(before, crl, "trent_crl_generation_seconds_count", issuerTag)).isGreaterThanOrEqualTo(1.0);
        assertThat(crl.value("trent_crl_entries", issuerTag)).isGreaterThanOrEqualTo(1.0);
        assertThat(crl.value("trent_crl_size_bytes", issuerTag)).isGreaterThan(200.0);
        assertThat(crl.value("trent_crl_age_seconds", issuerTag)).isBetween(0.0, 60.0);
    }

    private static double delta(Prometheus before, Prometheus after, String name, Map<String, String> labels) {
        double b = before.value(name, labels);
        double a = after.value(name, labels);
        assertThat(a).as("%s %s is exposed", name, labels).isNotNaN();
        return a - (Double.isNaN(b) ? 0 : b);
    }

    @Test
    void healthWhenAnonymousThenStatusOnlyAndWithApiKeyThenComponentsAndDetails() {
        TrentClient c = client();
        for (String path : List.of("/actuator/health", "/actuator/health/readiness")) {
            TrentClient.Response anonymous = c.get(path, null, null);
            assertThat(anonymous.status()).as(anonymous.toString()).isEqualTo(200);
            assertThat(anonymous.json().get("status").asString()).isEqualTo("UP");
            assertThat(anonymous.json().has("components")).as("%s anonymously: %s", path, anonymous).isFalse();
            assertThat(anonymous.text()).doesNotContain("details", "signer", "crl");
        }
        TrentClient.Response unknownKey = c.get("/actuator/health", "trent_ak_unknown-key-0123456789abcdefghijklmnop",
                null);
        assertThat(unknownKey.status()).as(unknownKey.toString()).isEqualTo(401);

        JsonNode health = c.get("/actuator/health", auditorKey(), null).json();
        assertThat(health.get("components").has("db")).isTrue();
        assertThat(health.at("/components/signer/status").asString()).isEqualTo("UP");
        assertThat(health.at("/components/signer/details/key").asString()).isNotEmpty();
        assertThat(health.at("/components/crl/status").asString()).isEqualTo("UP");
        JsonNode issuers = health.at("/components/crl/details/issuers");
        assertThat(issuers.isObject() && !issuers.isEmpty()).as("%s", health).isTrue();
        issuers.properties().forEach(e -> {
            assertThat(e.getKey()).matches("[0-9a-f]{40}");
            assertThat(e.getValue().get("status").asString()).isIn("current", "pending");
        });

        JsonNode readiness = c.get("/actuator/health/readiness", ADMIN_KEY, null).json();
        assertThat(readiness.get("components").properties().stream().map(Map.Entry::getKey).toList())
                .contains("readinessState", "db", "reservations", "signer", "crl");
    }

    @Test
    void livenessWhenNoKeyOrABadOneThenUpWithoutDetails() {
        for (String credential : new String[] {null, "trent_ak_unknown-key-0123456789abcdefghijklmnop", ADMIN_KEY}) {
            TrentClient.Response r = client().get("/actuator/health/liveness", credential, null);
            assertThat(r.status()).as("%s: %s", credential, r).isEqualTo(200);
            assertThat(r.json().get("status").asString()).isEqualTo("UP");
            assertThat(r.json().has("components")).as("liveness never looks at credentials: %s", r).isFalse();
        }
    }

    @Test
    void actuatorWhenAnotherEndpointThen404() {
        for (String path : List.of("/actuator", "/actuator/env", "/actuator/metrics", "/actuator/beans")) {
            TrentClient.Response r = client().get(path, ADMIN_KEY, null);
            assertThat(r.status()).as("%s: %s", path, r).isEqualTo(404);
        }
    }
}
