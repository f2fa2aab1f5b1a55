package dev.trent.enrollment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * Server-side key generation ({@code POST /api/v1/enroll/keygen}) for devices that cannot make
 * keys: key and certificate as JSON with PEM, or as the zip a MicroPython board loads; the key
 * works with the certificate and the chain validates; the token cannot be replayed for the key.
 */
class KeygenIT extends IntegrationTest {

    @TempDir
    Path dir;

    @org.springframework.beans.factory.annotation.Autowired
    private dev.trent.tls.TlsServer tls;

    private TrentClient.Response keygen(String token, String accept) {
        Map<String, String> headers = new HashMap<>();
        headers.put("Authorization", "Bearer " + token);
        if (accept != null) {
            headers.put("Accept", accept);
        }
        List<X509Certificate> chain = chain();
        return TrentClient.https(tls.port(), chain.get(chain.size() - 1)).send("POST", "/api/v1/enroll/keygen", headers,
                new byte[0]);
    }

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    private static void assertKeyMatches(PrivateKey key, X509Certificate cert) throws Exception {
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key);
        s.update(new byte[] {1, 2, 3});
        byte[] sig = s.sign();
        Signature v = Signature.getInstance("SHA256withECDSA");
        v.initVerify(cert.getPublicKey());
        v.update(new byte[] {1, 2, 3});
        assertThat(v.verify(sig)).as("the private key belongs to the certificate").isTrue();
    }

    @Test
    void keygenWhenJsonThenPkcs8KeyCertificateAndChainOnceAndTheTokenCannotBeReplayed() throws Exception {
        String device = deviceId("keygen");
        String token = client().token(ADMIN_KEY, device, "device", null);

        TrentClient.Response r = keygen(token, null);
        TrentClient.Response again = keygen(token, null);

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.header("Cache-Control")).contains("no-store");
        JsonNode json = r.json();
        byte[] pkcs8 = Pem.decodeAll(json.get("privateKey").asText()).get(0).der();
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(json.get("certificate").asText().getBytes()));
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=" + device);
        assertKeyMatches(key, cert);
        List<X509Certificate> chain = chain();
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(chain.get(chain.size() - 1), null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
                .generateCertPath(List.of(cert, chain.get(0))), params);
        assertThat(again.status()).as("a generated key is handed out once").isEqualTo(409);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'certificate.issued' and "
                + "subject = ? and details->>'keyGeneratedBy' = 'server'", Integer.class,
                cert.getSerialNumber().toString(16))).isEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where details::text like ?", Integer.class,
                "%" + json.get("privateKey").asText().split("\n")[1].substring(0, 40) + "%"))
                .as("the key appears nowhere in the audit log").isZero();
    }

    @Test
    void keygenWhenZipThenKeyCertAndCaDerThatOpensslAccepts() throws Exception {
        Openssl.assumeAvailable();
        String token = client().token(ADMIN_KEY, deviceId("keygen-zip"), "device", null);

        TrentClient.Response r = keygen(token, "application/zip");

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(r.contentType()).isEqualTo("application/zip");
        Map<String, byte[]> files = new HashMap<>();
        try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(r.body()))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null;) {
                files.put(e.getName(), zip.readAllBytes());
            }
        }
        assertThat(files).containsOnlyKeys("key.der", "cert.der", "ca.der");
        List<X509Certificate> chain = chain();
        assertThat(files.get("ca.der")).isEqualTo(chain.get(chain.size() - 1).getEncoded());
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Files.write(dir.resolve(f.getKey()), f.getValue());
        }
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(chain.subList(0, 1)));
        Openssl.ok(dir, "x509", "-inform", "DER", "-in", "ca.der", "-out", "ca.pem");
        Openssl.ok(dir, "x509", "-inform", "DER", "-in", "cert.der", "-out", "cert.pem");
        Openssl.ok(dir, "verify", "-CAfile", "ca.pem", "-untrusted", "int.pem", "cert.pem");
        String fromKey = Openssl.ok(dir, "pkey", "-inform", "DER", "-in", "key.der", "-pubout").output();
        String fromCert = Openssl.ok(dir, "x509", "-in", "cert.pem", "-noout", "-pubkey").output();
        assertThat(fromKey.strip()).isEqualTo(fromCert.strip());
    }

    @Test
    void keygenWhenPlainHttpThen403TlsRequiredAndTheTokenStaysUnused() {
        String device = deviceId("keygen-http");
        String token = client().token(ADMIN_KEY, device, "device", null);

        TrentClient.Response r = client().send("POST", "/api/v1/enroll/keygen", Map.of("Authorization", "Bearer " + token),
                new byte[0]);

        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().get("type").asText()).isEqualTo("https://trent.dev/problems/tls-required");
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).isEqualTo(1);
    }

    @Test
    void keygenWhenAcceptUnsupportedThen406AndTheTokenStaysUnused() {
        String device = deviceId("keygen-406");
        String token = client().token(ADMIN_KEY, device, "device", null);

        TrentClient.Response r = keygen(token, "text/csv");

        assertThat(r.status()).isEqualTo(406);
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).isEqualTo(1);
    }
}
