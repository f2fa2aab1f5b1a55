package dev.trent.revocation;

import static dev.trent.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import java.security.KeyPair;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/** Operator revocation: reasons and their RFC 5280 rules, holds, key blocking, bulk, audit. */
class RevocationIT extends IntegrationTest {

    private TrentClient http() {
        return client();
    }

    private String enroll(String device, KeyPair keys) {
        TrentClient.Response r = http().enroll(http().token(ADMIN_KEY, device, "device", null),
                "application/x-pem-file", TestCsrs.forKey(keys, "x").pem().getBytes(), "application/json");
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("serial").asText();
    }

    private String enroll(String device) {
        return enroll(device, TestCsrs.ecP256("x").keys());
    }

    private TrentClient.Response revoke(String serial, String reason, String invalidityDate) {
        Map<String, Object> body = new HashMap<>();
        body.put("reason", reason);
        if (invalidityDate != null) {
            body.put("invalidityDate", invalidityDate);
        }
        return http().postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY, body);
    }

    private JsonNode get(String serial) {
        return http().get("/api/v1/certificates/" + serial, ADMIN_KEY, "application/json").json();
    }

    private int audits(String action, String subject) {
        return jdbc.queryForObject("select count(*) from audit_event where action = ? and subject = ?",
                Integer.class, action, subject);
    }

    @Test
    void revokeWhenValidThenRevokedWithTimeReasonAndAudit() {
        String serial = enroll(deviceId("rv"));
        Instant before = Instant.now().minusSeconds(1);

        TrentClient.Response r = revoke(serial, "superseded", "2026-01-01T00:00:00Z");

        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("REVOKED");
        assertThat(r.json().get("revocationReason").asText()).isEqualTo("superseded");
        assertThat(Instant.parse(r.json().get("revokedAt").asText())).isAfter(before);
        assertThat(r.json().get("invalidityDate").asText()).isEqualTo("2026-01-01T00:00:00Z");
        JsonNode stored = get(serial);
        assertThat(stored.get("status").asText()).isEqualTo("REVOKED");
        assertThat(stored.get("revocationReason").asText()).isEqualTo("superseded");
        assertThat(audits("certificate.revoked", serial)).isEqualTo(1);
        assertThat(jdbc.queryForObject("select actor from audit_event where action = 'certificate.revoked' "
                + "and subject = ?", String.class, serial)).isEqualTo("api-key:1:bootstrap-admin");
    }

    @Test
    void revokeWhenInvalidityDateFarInThePastThen400NamingTheFieldAndNothingChanges() {
        String serial = enroll(deviceId("rv-old"));

        TrentClient.Response r = revoke(serial, "keyCompromise", "-584552020-09-30T09:34:09Z");

        assertThat(r.status()).as(r.toString()).isEqualTo(400);
        assertThat(r.json().get("detail").asText()).contains("invalidityDate", "1970-01-01");
        assertThat(get(serial).get("status").asText()).isEqualTo("ISSUED");
    }

    @Test
    void revokeWhenRepeatedWithSameReasonThenIdempotent() {
        String serial = enroll(deviceId("rv"));
        String first = revoke(serial, "cessationOfOperation", null).json().get("revokedAt").asText();

        TrentClient.Response again = revoke(serial, "cessationOfOperation", null);

        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("revokedAt").asText()).isEqualTo(first);
        assertThat(audits("certificate.revoked", serial)).isEqualTo(1);
        assertThat(audits("certificate.revocation-changed", serial)).isZero();
    }

    @Test
    void revokeWhenPermanentReasonChangesThenOnlyKeyCompromiseIsAllowed() {
        String serial = enroll(deviceId("rv"));
        String revokedAt = revoke(serial, "superseded", null).json().get("revokedAt").asText();

        assertProblem(revoke(serial, "affiliationChanged", null), 409, "revocation-conflict");
        assertProblem(revoke(serial, "certificateHold", null), 409, "revocation-conflict");
        TrentClient.Response escalated = revoke(serial, "keyCompromise", null);

        assertThat(escalated.status()).isEqualTo(200);
        assertThat(escalated.json().get("revocationReason").asText()).isEqualTo("keyCompromise");
        assertThat(escalated.json().get("revokedAt").asText()).isEqualTo(revokedAt);
        assertThat(audits("certificate.revocation-changed", serial)).isEqualTo(1);
    }

    @Test
    void holdWhenReleasedThenValidAgainAndWhenMadePermanentThenRevoked() {
        String released = enroll(deviceId("hold"));
        String kept = enroll(deviceId("hold"));
        revoke(released, "certificateHold", null);
        revoke(kept, "certificateHold", null);

        TrentClient.Response unheld = http().postJson("/api/v1/certificates/" + released + "/unhold", ADMIN_KEY,
                Map.of());
        TrentClient.Response permanent = revoke(kept, "privilegeWithdrawn", null);

        assertThat(unheld.status()).as(unheld.toString()).isEqualTo(200);
        assertThat(unheld.json().get("status").asText()).isEqualTo("ISSUED");
        assertThat(unheld.json().has("revocationReason")).isFalse();
        assertThat(audits("certificate.unheld", released)).isEqualTo(1);
        assertThat(permanent.json().get("revocationReason").asText()).isEqualTo("privilegeWithdrawn");
        assertProblem(http().postJson("/api/v1/certificates/" + kept + "/unhold", ADMIN_KEY, Map.of()), 409,
                "not-on-hold");
        assertProblem(http().postJson("/api/v1/certificates/" + released + "/unhold", ADMIN_KEY, Map.of()), 409,
                "not-on-hold");
    }

    @Test
    void keyCompromiseWhenReportedThenEveryCertificateForTheKeyRevokedAndKeyRefused() {
        KeyPair keys = TestCsrs.ecP256("x").keys();
        String device = deviceId("kc");
        String first = enroll(device, keys);
        String second = enroll(deviceId("kc-other"), keys);
        String heldSameKey = enroll(deviceId("kc-held"), keys);
        String otherKey = enroll(device);
        revoke(heldSameKey, "certificateHold", null);

        assertThat(revoke(first, "keyCompromise", "2026-11-01T00:00:00Z").status()).isEqualTo(200);

        assertThat(get(second).get("status").asText()).isEqualTo("REVOKED");
        assertThat(get(second).get("revocationReason").asText()).isEqualTo("keyCompromise");
        assertThat(get(heldSameKey).get("revocationReason").asText()).isEqualTo("keyCompromise");
        assertThat(get(otherKey).get("status").asText()).isEqualTo("ISSUED");
        assertThat(audits("key.blocked", get(first).get("publicKeySha256").asText())).isEqualTo(1);
        String token = http().token(ADMIN_KEY, deviceId("kc-again"), "device", null);
        TrentClient.Response refused = http().enroll(token, "application/x-pem-file",
                TestCsrs.forKey(keys, "x").pem().getBytes(), null);
        assertProblem(refused, 400, "key-refused");
        assertThat(refused.json().get("detail").asText()).contains("compromised");
        assertThat(jdbc.queryForObject("select used_at is null from enrollment_token where token_hash = ?",
                Boolean.class, dev.trent.pki.Hashes.sha256(token))).isTrue();
        assertThat(http().enroll(token, "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null)
                .status()).isEqualTo(201);
    }

    @Test
    void enrollRetryWhenItsCertificateWasRevokedThen409NotTheRevokedCertificate() {
        String token = http().token(ADMIN_KEY, deviceId("retry-rv"), "device", null);
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        TrentClient.Response first = http().enroll(token, "application/x-pem-file", csr.pem().getBytes(),
                "application/json");
        revoke(first.json().get("serial").asText(), "superseded", null);

        TrentClient.Response retry = http().enroll(token, "application/x-pem-file", csr.pem().getBytes(), null);

        assertProblem(retry, 409, "enrollment-token-used");
        assertThat(retry.json().get("detail").asText()).contains("revoked");
    }

    @Test
    void bulkWhenDryRunThenListsWithoutChangingAndThenRevokes() {
        String device = deviceId("bulk");
        List<String> serials = List.of(enroll(device), enroll(device), enroll(device));
        String other = enroll(deviceId("bulk-other"));

        TrentClient.Response dry = http().postJson("/api/v1/certificates/bulk-revoke", ADMIN_KEY,
                Map.of("deviceId", device, "reason", "cessationOfOperation"));

        assertThat(dry.status()).as(dry.toString()).isEqualTo(200);
        assertThat(dry.json().get("dryRun").asBoolean()).isTrue();
        assertThat(dry.json().get("count").asInt()).isEqualTo(3);
        assertThat(dry.json().get("serials")).extracting(JsonNode::asText).containsExactlyElementsOf(serials);
        assertThat(get(serials.get(0)).get("status").asText()).isEqualTo("ISSUED");

        TrentClient.Response done = http().postJson("/api/v1/certificates/bulk-revoke", ADMIN_KEY,
                Map.of("deviceId", device, "reason", "cessationOfOperation", "dryRun", false));

        assertThat(done.json().get("count").asInt()).isEqualTo(3);
        for (String s : serials) {
            assertThat(get(s).get("status").asText()).isEqualTo("REVOKED");
        }
        assertThat(get(other).get("status").asText()).isEqualTo("ISSUED");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'certificate.bulk-revoked' "
                + "and details->>'count' = '3' and details->>'selection' like ?", Integer.class, "%" + device + "%"))
                .isEqualTo(1);
        // Again: nothing left to revoke.
        assertThat(http().postJson("/api/v1/certificates/bulk-revoke", ADMIN_KEY,
                Map.of("deviceId", device, "reason", "cessationOfOperation", "dryRun", false)).json().get("count")
                .asInt()).isZero();
    }

    @Test
    void bulkWhenByBatchThenOnlyThatBatchsCertificates() {
        List<String> devices = List.of(deviceId("line"), deviceId("line"));
        TrentClient.Response batch = http().postJson("/api/v1/enrollment-tokens/batch", ADMIN_KEY,
                Map.of("deviceIds", devices, "profile", "device"));
        String batchId = batch.json().get("batchId").asText();
        for (JsonNode t : batch.json().get("tokens")) {
            http().enroll(t.get("token").asText(), "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(),
                    null);
        }
        enroll(deviceId("not-in-batch"));

        TrentClient.Response r = http().postJson("/api/v1/certificates/bulk-revoke", ADMIN_KEY,
                Map.of("batchId", batchId, "reason", "affiliationChanged", "dryRun", false));

        assertThat(r.json().get("count").asInt()).isEqualTo(2);
        assertProblem(http().postJson("/api/v1/certificates/bulk-revoke", ADMIN_KEY,
                Map.of("batchId", batchId, "deviceId", "x", "reason", "superseded")), 400, "invalid-request");
        assertProblem(http().postJson("/api/v1/certificates/bulk-revoke", ADMIN_KEY,
                Map.of("reason", "superseded")), 400, "invalid-request");
        assertProblem(http().postJson("/api/v1/certificates/bulk-revoke", ADMIN_KEY,
                Map.of("batchId", "not-a-uuid", "reason", "superseded")), 400, "invalid-request");
    }

    @Test
    void revokeWhenRequestInvalidOrRoleTooLowThenRefused() {
        String serial = enroll(deviceId("bad"));
        TrentClient.Response auditorKey = http().postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", "aud-" + deviceId("k"), "role", "AUDITOR"));
        String auditor = auditorKey.json().get("key").asText();

        assertProblem(revoke(serial, "removeFromCRL", null), 400, "invalid-request");
        assertProblem(revoke(serial, "KEYCOMPROMISE", null), 400, "invalid-request");
        assertProblem(revoke(serial, null, null), 400, "invalid-request");
        assertProblem(revoke(serial, "superseded", Instant.now().plusSeconds(3600).toString()), 400,
                "invalid-request");
        assertProblem(revoke(serial, "superseded", "yesterday"), 400, "invalid-request");
        assertProblem(revoke("abcdef12345", "superseded", null), 404, "not-found");
        assertProblem(http().postJson("/api/v1/certificates/" + serial + "/revoke", auditor,
                Map.of("reason", "superseded")), 403, "forbidden");
        assertThat(get(serial).get("status").asText()).isEqualTo("ISSUED");
        assertThat(http().get("/api/v1/certificates?status=REVOKED&deviceId=x-none", ADMIN_KEY, null).status())
                .isEqualTo(200);
    }
}
