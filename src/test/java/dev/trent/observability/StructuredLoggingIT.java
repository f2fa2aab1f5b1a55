package dev.trent.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.context.TestPropertySource;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * With {@code logging.structured.format.console=ecs} every log line is a JSON object; and
 * whatever happens (enrollments, server-side key generation, failed logins with API keys and
 * enrollment tokens in the wrong place), the log never carries a token, an API key, a private key
 * or a CSR.
 */
@TestPropertySource(properties = "logging.structured.format.console=ecs")
@ExtendWith(OutputCaptureExtension.class)
class StructuredLoggingIT extends IntegrationTest {

    @Autowired
    private dev.trent.tls.TlsServer tls;

    @Test
    void logsWhenEnrollKeygenAndFailedLoginsThenJsonLinesWithoutSecrets(CapturedOutput output) throws Exception {
        TrentClient c = client();
        List<String> secrets = new ArrayList<>();
        secrets.add(ADMIN_KEY);

        // Enrollment (and a retry) with a token; the CSR's body must not be logged either.
        String token = c.token(ADMIN_KEY, deviceId("log-enroll"), "device", null);
        secrets.add(token);
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        assertThat(c.enroll(token, "application/x-pem-file", csr.pem().getBytes(StandardCharsets.US_ASCII), null)
                .status()).isEqualTo(201);
        assertThat(c.enroll(token, "application/x-pem-file", csr.pem().getBytes(StandardCharsets.US_ASCII), null)
                .status()).isEqualTo(200);
        String csrBase64 = Base64.getEncoder().encodeToString(csr.der());

        // Server-side key generation over HTTPS: the private key is in the response only.
        String keygenToken = c.token(ADMIN_KEY, deviceId("log-keygen"), "device", null);
        secrets.add(keygenToken);
        List<X509Certificate> chain = c.get("/api/v1/ca/chain", null, null).certificates();
        Map<String, String> headers = new HashMap<>();
        headers.put("Authorization", "Bearer " + keygenToken);
        TrentClient.Response keygen = TrentClient.https(tls.port(), chain.get(chain.size() - 1)).send("POST",
                "/api/v1/enroll/keygen", headers, new byte[0]);
        assertThat(keygen.status()).as(keygen.toString()).isEqualTo(201);
        String privateKeyPem = keygen.json().get("privateKey").asString();
        String privateKeyBody = privateKeyPem.lines().filter(l -> !l.startsWith("-----")).findFirst().orElseThrow();

        // A new API key, then failed logins: an unknown key, an enrollment token on the operator
        // API, an API key and an unknown token at enrollment, a revoked token reused.
        TrentClient.Response created = c.postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", deviceId("log-key"), "role", "AUDITOR"));
        String auditorKey = created.json().get("key").asString();
        secrets.add(auditorKey);
        String unknownKey = "trent_ak_never-issued-0123456789abcdefghijklmnopq";
        secrets.add(unknownKey);
        assertThat(c.get("/api/v1/certificates", unknownKey, null).status()).isEqualTo(401);
        assertThat(c.get("/api/v1/certificates", token, null).status()).isEqualTo(401);
        assertThat(c.get("/actuator/prometheus", unknownKey, null).status()).isEqualTo(401);
        assertThat(c.enroll(auditorKey, "application/x-pem-file", csr.pem().getBytes(StandardCharsets.US_ASCII), null)
                .status()).isEqualTo(401);
        String unknownToken = "trent_et_never-issued-0123456789abcdefghijklmnopq";
        secrets.add(unknownToken);
        assertThat(c.enroll(unknownToken, "application/x-pem-file", csr.pem().getBytes(StandardCharsets.US_ASCII),
                null).status()).isEqualTo(401);

        // A webhook endpoint: its secret is in the creating response only, never in the log, not
        // even while a delivery fails (500) and is retried.
        try (dev.trent.support.WebhookReceiver receiver = dev.trent.support.WebhookReceiver.start()) {
            receiver.answer("/log", 500);
            TrentClient.Response hook = c.postJson("/api/v1/webhooks", ADMIN_KEY, Map.of("url", receiver.url("/log"),
                    "eventTypes", List.of("certificate.issued")));
            assertThat(hook.status()).as(hook.toString()).isEqualTo(201);
            String webhookSecret = hook.json().get("secret").asString();
            secrets.add(webhookSecret);
            secrets.add(webhookSecret.substring("whsec_".length()));
            assertThat(c.enroll(c.token(ADMIN_KEY, deviceId("log-hook"), "device", null), "application/x-pem-file",
                    TestCsrs.ecP256("x").pem().getBytes(StandardCharsets.US_ASCII), null).status()).isEqualTo(201);
            assertThat(receiver.awaitCount(r -> true, 2, java.time.Duration.ofSeconds(30)))
                    .as("the failed attempt and its retry").hasSize(2);
            jdbc.update("delete from webhook_endpoint where id = ?", hook.json().get("id").asLong());
        }

        String log = output.getAll();
        assertThat(log).as("the actions above were logged").contains("Issued certificate", "Unknown or revoked API key",
                "Enrollment token presented to the operator API");
        for (String secret : secrets) {
            assertThat(log).as("a secret in the log").doesNotContain(secret);
        }
        assertThat(log).doesNotContain("PRIVATE KEY", privateKeyBody, "CERTIFICATE REQUEST", csrBase64.substring(0, 40));

        // Every line logged during the test is one JSON object (ECS), with the message inside.
        List<String> lines = output.getOut().lines().filter(l -> !l.isBlank()).toList();
        List<JsonNode> parsed = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("OpenJDK") || line.startsWith("WARNING:")) {
                continue; // the JVM's own warnings, not the application's log
            }
            parsed.add(TrentClient.JSON.readTree(line));
        }
        assertThat(parsed).anySatisfy(json -> {
            assertThat(json.get("message").asString()).startsWith("Issued certificate");
            assertThat(json.get("@timestamp")).isNotNull();
            assertThat(json.at("/log/level").asString()).isEqualTo("INFO");
        });
    }
}
