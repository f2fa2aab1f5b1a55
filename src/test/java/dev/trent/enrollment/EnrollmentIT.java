package dev.trent.enrollment;

import static dev.trent.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;

import dev.trent.pki.Hashes;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/** Every rule and error of {@code POST /api/v1/enroll}, over real HTTP against real PostgreSQL. */
class EnrollmentIT extends IntegrationTest {

    private static final String PEM = "application/x-pem-file";

    @Test
    void enrollWhenValidThenCertificateForTokenDeviceNotCsrSubject() throws Exception {
        TrentClient c = client();
        String device = deviceId("dev");
        String token = c.token(ADMIN_KEY, device, "device", null);
        TestCsrs.Csr csr = TestCsrs.ecP256("something-else-entirely");

        TrentClient.Response r = c.enroll(token, PEM, csr.pem().getBytes(), null);

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(r.contentType()).isEqualTo("application/pem-certificate-chain");
        List<X509Certificate> chain = r.certificates();
        assertThat(chain).hasSize(2);
        X509Certificate leaf = chain.get(0);
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=" + device);
        assertThat(leaf.getPublicKey()).isEqualTo(csr.keys().getPublic());
        assertThat(leaf.getSubjectAlternativeNames()).isNull();
        assertThat(chain.get(1).getSubjectX500Principal()).isEqualTo(leaf.getIssuerX500Principal());
        assertThat(chain.get(1).getIssuerX500Principal()).isNotEqualTo(chain.get(1).getSubjectX500Principal());
        assertThat(r.header("Location")).isEqualTo("/api/v1/certificates/" + leaf.getSerialNumber().toString(16));
    }

    @Test
    void enrollWhenIssuedThenRecordTokenAndAuditAreStoredTogether() throws Exception {
        TrentClient c = client();
        String device = deviceId("rec");
        String token = c.token(ADMIN_KEY, device, "device", null);
        TestCsrs.Csr csr = TestCsrs.ecP384("x");

        TrentClient.Response r = c.enroll(token, "application/pkcs10", csr.der(), "application/pkix-cert");

        assertThat(r.status()).isEqualTo(201);
        assertThat(r.contentType()).isEqualTo("application/pkix-cert");
        X509Certificate leaf = r.certificates().get(0);
        String serial = leaf.getSerialNumber().toString(16);
        Map<String, Object> row = jdbc.queryForMap("select * from certificate where serial = ?", serial);
        assertThat(row.get("status")).isEqualTo("ISSUED");
        assertThat(row.get("device_id")).isEqualTo(device);
        assertThat(row.get("profile")).isEqualTo("device");
        assertThat(row.get("key_type")).isEqualTo("EC_P384");
        assertThat((byte[]) row.get("der")).isEqualTo(leaf.getEncoded());
        assertThat(row.get("public_key_sha256")).isEqualTo(Hashes.sha256Hex(csr.keys().getPublic().getEncoded()));
        assertThat(((Timestamp) row.get("not_before")).toInstant()).isEqualTo(leaf.getNotBefore().toInstant());
        assertThat(((Timestamp) row.get("not_after")).toInstant()).isEqualTo(leaf.getNotAfter().toInstant());
        Map<String, Object> tok = jdbc.queryForMap("select * from enrollment_token where device_id = ?", device);
        assertThat(tok.get("used_at")).isNotNull();
        assertThat(tok.get("certificate_id")).isEqualTo(row.get("id"));
        assertThat(tok.get("token_hash")).isEqualTo(Hashes.sha256(token));
        Integer audits = jdbc.queryForObject("select count(*) from audit_event where action = 'certificate.issued' "
                + "and subject = ? and actor = ?", Integer.class, serial, "device:" + device);
        assertThat(audits).isEqualTo(1);
        // The token itself is stored nowhere: not in the token table, not in the audit log.
        Integer leaks = jdbc.queryForObject("select count(*) from audit_event where details::text like ?",
                Integer.class, "%" + token.substring(9, 30) + "%");
        assertThat(leaks).isZero();
    }

    @Test
    void enrollWhenCertificateIssuedThenProfileContentIsExact() throws Exception {
        TrentClient c = client();
        String device = deviceId("content");
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), PEM,
                TestCsrs.ecP256("x").pem().getBytes(), null);
        X509Certificate leaf = r.certificates().get(0);
        Instant now = Instant.now();

        assertThat(leaf.getVersion()).isEqualTo(3);
        BigInteger serial = leaf.getSerialNumber();
        assertThat(serial.signum()).isPositive();
        assertThat(serial.bitLength()).isLessThanOrEqualTo(128).isGreaterThan(64);
        assertThat(Duration.between(leaf.getNotBefore().toInstant(), now)).isBetween(Duration.ofMinutes(4),
                Duration.ofMinutes(6));
        assertThat(Duration.between(now, leaf.getNotAfter().toInstant())).isBetween(Duration.ofDays(364),
                Duration.ofDays(366));
        assertThat(leaf.getBasicConstraints()).isEqualTo(-1);
        assertThat(leaf.getCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.19", "2.5.29.15");
        assertThat(leaf.getKeyUsage()).containsExactly(true, false, false, false, false, false, false, false, false);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        // Exactly these extensions: basicConstraints, keyUsage, EKU, SKI, AKI, CDP, AIA. No surprises.
        assertThat(leaf.getNonCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.37", "2.5.29.14",
                "2.5.29.35", "2.5.29.31", "1.3.6.1.5.5.7.1.1");
        assertThat(leaf.getSigAlgName()).isEqualTo("SHA256withECDSA");
    }

    @Test
    void enrollWhenServerProfileThenSansAreExactlyTheTokensNames() throws Exception {
        TrentClient c = client();
        String device = deviceId("gw");
        String token = c.token(ADMIN_KEY, device, "server", List.of("GW1.Example.test", "mqtt.example.test"));
        byte[] csrWithOtherSans = CsrTestdataIT.read("openssl-p256-with-sans.csr");

        TrentClient.Response r = c.enroll(token, PEM, csrWithOtherSans, null);

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        X509Certificate leaf = r.certificates().get(0);
        Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        List<Object> types = sans.stream().map(l -> (Object) l.get(0)).toList();
        List<Object> names = sans.stream().map(l -> (Object) l.get(1)).toList();
        assertThat(types).containsOnly(2);
        assertThat(names).containsExactly("gw1.example.test", "mqtt.example.test");
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
    }

    @Test
    void enrollWhenSameTokenAndSameKeyRetriedThenSameCertificateWith200() {
        TrentClient c = client();
        String token = c.token(ADMIN_KEY, deviceId("retry"), "device", null);
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        TrentClient.Response first = c.enroll(token, PEM, csr.pem().getBytes(), "application/json");
        // A fresh CSR over the same key, as a device that rebooted and re-signed would send.
        TestCsrs.Csr again = TestCsrs.forKey(csr.keys(), "x");

        TrentClient.Response second = c.enroll(token, "application/pkcs10", again.der(), "application/json");

        assertThat(first.status()).isEqualTo(201);
        assertThat(second.status()).as(second.toString()).isEqualTo(200);
        assertThat(second.json().get("serial").asText()).isEqualTo(first.json().get("serial").asText());
        assertThat(second.json().get("certificatePem").asText()).isEqualTo(first.json().get("certificatePem").asText());
        assertThat(second.header("Location")).isEqualTo(first.header("Location"));
    }

    @Test
    void caIssuersWhenFetchedThenIssuerDerWithItsOwnFileName() throws Exception {
        TrentClient c = client();
        // A server certificate: the device profile leaves caIssuers out (CertificateSizeIT).
        String device = deviceId("aia");
        X509Certificate leaf = c.enroll(c.token(ADMIN_KEY, device, "server", List.of(device + ".example.com")), PEM,
                TestCsrs.ecP256("x").pem().getBytes(), null).certificates().get(0);
        byte[] aia = leaf.getExtensionValue("1.3.6.1.5.5.7.1.1");
        String text = new String(aia, java.nio.charset.StandardCharsets.ISO_8859_1);
        String url = text.substring(text.indexOf("http://localhost:8080/ca/"));
        String path = url.substring("http://localhost:8080".length());

        TrentClient.Response r = c.get(path, null, null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("application/pkix-cert");
        assertThat(r.header("Content-Disposition")).isEqualTo("inline; filename=\"" + path.substring(4) + "\"");
        X509Certificate issuer = r.certificates().get(0);
        assertThat(issuer.getSubjectX500Principal()).isEqualTo(leaf.getIssuerX500Principal());
        leaf.verify(issuer.getPublicKey());
        assertProblem(c.get("/ca/0000.crt", null, null), 404, "not-found");
    }

    @Test
    void enrollWhenSameTokenWithAnotherKeyThen409() {
        TrentClient c = client();
        String device = deviceId("used");
        String token = c.token(ADMIN_KEY, device, "device", null);
        assertThat(c.enroll(token, PEM, TestCsrs.ecP256("x").pem().getBytes(), null).status()).isEqualTo(201);

        TrentClient.Response r = c.enroll(token, PEM, TestCsrs.ecP256("x").pem().getBytes(), null);

        assertProblem(r, 409, "enrollment-token-used");
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class, device))
                .isEqualTo(1);
    }

    @Test
    void enrollWhenTokenMissingUnknownOrApiKeyThen401() {
        TrentClient c = client();
        byte[] csr = TestCsrs.ecP256("x").pem().getBytes();

        TrentClient.Response missing = c.enroll(null, PEM, csr, null);
        TrentClient.Response unknown = c.enroll("trent_et_doesnotexist", PEM, csr, null);
        TrentClient.Response apiKey = c.enroll(ADMIN_KEY, PEM, csr, null);
        TrentClient.Response basic = c.send("POST", "/api/v1/enroll",
                Map.of("Authorization", "Basic dXNlcjpwYXNz", "Content-Type", PEM), csr);

        for (TrentClient.Response r : List.of(missing, unknown, apiKey, basic)) {
            assertProblem(r, 401, "enrollment-token-invalid");
            assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
        }
        assertThat(apiKey.json().get("detail").asText()).contains("API keys cannot enroll");
    }

    @Test
    void enrollWhenBodyTooLargeThen413AndTokenUnused() {
        TrentClient c = client();
        String device = deviceId("big");
        String token = c.token(ADMIN_KEY, device, "device", null);
        byte[] big = new byte[16 * 1024 + 1];
        java.util.Arrays.fill(big, (byte) 'A');

        assertProblem(c.enroll(token, PEM, big, null), 413, "payload-too-large");
        assertTokenUnused(device);
        // Exactly 16 KiB is within the limit (and is refused only as a malformed CSR).
        assertProblem(c.enroll(token, PEM, java.util.Arrays.copyOf(big, 16 * 1024), null), 400, "csr-malformed");
    }

    @Test
    void enrollWhenUnsupportedContentTypeThen415AndTokenUnused() {
        TrentClient c = client();
        String device = deviceId("ct");
        String token = c.token(ADMIN_KEY, device, "device", null);
        byte[] csr = TestCsrs.ecP256("x").pem().getBytes();

        assertProblem(c.enroll(token, "application/json", csr, null), 415, "unsupported-media-type");
        assertProblem(c.enroll(token, null, csr, null), 415, "unsupported-media-type");
        assertTokenUnused(device);
    }

    @Test
    void enrollWhenAcceptCannotBeServedThen406AndTokenUnused() {
        TrentClient c = client();
        String device = deviceId("accept");
        String token = c.token(ADMIN_KEY, device, "device", null);

        assertProblem(c.enroll(token, PEM, TestCsrs.ecP256("x").pem().getBytes(), "image/png"), 406,
                "not-acceptable");
        assertTokenUnused(device);
    }

    @Test
    void enrollWhenJsonAcceptedThenFieldsDescribeTheCertificate() {
        TrentClient c = client();
        String device = deviceId("json");
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), PEM,
                TestCsrs.ecP256("x").pem().getBytes(), "application/json");

        assertThat(r.status()).isEqualTo(201);
        var json = r.json();
        assertThat(json.get("deviceId").asText()).isEqualTo(device);
        assertThat(json.get("profile").asText()).isEqualTo("device");
        assertThat(json.get("status").asText()).isEqualTo("ISSUED");
        assertThat(Instant.parse(json.get("notBefore").asText())).isBefore(Instant.parse(json.get("notAfter").asText()));
        String leafPem = json.get("certificatePem").asText();
        String chainPem = json.get("chainPem").asText();
        assertThat(leafPem).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(chainPem).startsWith(leafPem);
        assertThat(chainPem.split("-----BEGIN CERTIFICATE-----")).hasSize(3);
        assertThat(json.get("serial").asText()).matches("[0-9a-f]{1,32}");
    }

    @Test
    void enrollWhenParallelRequestsShareOneTokenThenExactlyOneCertificate() throws Exception {
        TrentClient c = client();
        String device = deviceId("race");
        String token = c.token(ADMIN_KEY, device, "device", null);
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            bodies.add(TestCsrs.ecP256("x").pem().getBytes());
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<TrentClient.Response>> calls = new ArrayList<>();
            for (byte[] body : bodies) {
                calls.add(() -> c.enroll(token, PEM, body, "application/json"));
            }
            List<Integer> statuses = new ArrayList<>();
            for (Future<TrentClient.Response> f : pool.invokeAll(calls)) {
                statuses.add(f.get().status());
            }
            assertThat(statuses).containsOnly(201, 409);
            assertThat(statuses).filteredOn(s -> s == 201).hasSize(1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class, device))
                .isEqualTo(1);
    }

    @Test
    void enrollWhenParallelRetriesWithSameKeyThenAllGetTheSameCertificate() throws Exception {
        TrentClient c = client();
        String device = deviceId("race-same");
        String token = c.token(ADMIN_KEY, device, "device", null);
        TestCsrs.Csr csr = TestCsrs.ecP256("x");
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Callable<TrentClient.Response>> calls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                calls.add(() -> c.enroll(token, PEM, csr.pem().getBytes(), "application/json"));
            }
            Set<String> serials = new HashSet<>();
            Map<Integer, Integer> byStatus = new HashMap<>();
            for (Future<TrentClient.Response> f : pool.invokeAll(calls)) {
                TrentClient.Response r = f.get();
                byStatus.merge(r.status(), 1, Integer::sum);
                serials.add(r.json().get("serial").asText());
            }
            assertThat(byStatus).containsEntry(201, 1).containsEntry(200, 5);
            assertThat(serials).hasSize(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void auditLogWhenRowUpdatedOrDeletedThenDatabaseRefuses() {
        client().token(ADMIN_KEY, deviceId("audit"), "device", null);
        Long id = jdbc.queryForObject("select max(id) from audit_event", Long.class);

        assertThatThrownBy(() -> jdbc.update("update audit_event set actor = 'mallory' where id = ?", id))
                .hasMessageContaining("append-only");
        assertThatThrownBy(() -> jdbc.update("delete from audit_event where id = ?", id))
                .hasMessageContaining("append-only");
        assertThatThrownBy(() -> jdbc.execute("truncate audit_event")).hasMessageContaining("append-only");
    }

    private void assertTokenUnused(String device) {
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).isEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class, device))
                .isZero();
    }
}
