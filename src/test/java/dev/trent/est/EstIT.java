package dev.trent.est;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.est.CACertsResponse;
import org.bouncycastle.est.ESTService;
import org.bouncycastle.est.jcajce.JsseESTServiceBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TrentClient;
import dev.trent.tls.TlsServer;

/**
 * EST {@code cacerts} (RFC 7030 4.1) over Trent's HTTPS listener, fetched by clients nobody here
 * wrote: Bouncy Castle's EST client, and curl piped into openssl.
 */
class EstIT extends IntegrationTest {

    @Autowired
    private TlsServer tls;

    @TempDir
    Path dir;

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    private ESTService est(String label) {
        X509Certificate root = chain().get(chain().size() - 1);
        JsseESTServiceBuilder b = new JsseESTServiceBuilder("localhost:" + tls.port(), dev.trent.support.TestTls.trusting(root));
        if (label != null) {
            b.withLabel(label);
        }
        return b.build();
    }

    private static List<X509Certificate> certificates(CACertsResponse r) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        for (Object o : r.getCertificateStore().getMatches(null)) {
            out.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
        }
        return out;
    }

    @Test
    void cacertsWhenAskedByBouncyCastlesEstClientThenIntermediateAndRoot() throws Exception {
        CACertsResponse r = est(null).getCACerts();

        assertThat(r.hasCertificates()).isTrue();
        assertThat(certificates(r)).containsExactlyInAnyOrderElementsOf(chain());
    }

    @Test
    void cacertsWhenLabelIsAProfileThenSameCertificatesAndUnknownLabelIs404() throws Exception {
        CACertsResponse r = est("device").getCACerts();
        TrentClient.Response unknown = client().get("/.well-known/est/no-such-profile/cacerts", null, null);

        assertThat(certificates(r)).containsExactlyInAnyOrderElementsOf(chain());
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.contentType()).startsWith("application/problem+json");
    }

    @Test
    void cacertsWhenFetchedOverPlainHttpThenBase64CertsOnlyPkcs7ThatOpensslReads() throws Exception {
        Openssl.assumeAvailable();
        TrentClient.Response r = client().get("/.well-known/est/cacerts", null, null);

        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("application/pkcs7-mime; smime-type=certs-only");
        assertThat(r.header("Content-Transfer-Encoding")).isEqualTo("base64");
        byte[] der = Base64.getMimeDecoder().decode(r.body());
        CMSSignedData cms = new CMSSignedData(der);
        assertThat(cms.getSignerInfos().size()).as("certs-only: no signers").isZero();
        Files.write(dir.resolve("cacerts.p7"), der);
        Openssl.Result printed = Openssl.ok(dir, "pkcs7", "-inform", "DER", "-in", "cacerts.p7", "-print_certs");
        for (X509Certificate c : chain()) {
            assertThat(printed.output()).contains(Pem.certificates(List.of(c)).strip());
        }
    }

    @Test
    void csrattrsWhenAskedByBouncyCastlesEstClientThenP256KeyAndEcdsaWithSha256() throws Exception {
        org.bouncycastle.est.CSRAttributesResponse attrs = est("device").getCSRAttributes().getAttributesResponse();
        TrentClient.Response unknown = client().get("/.well-known/est/no-such-profile/csrattrs", null, null);
        TrentClient.Response plain = client().get("/.well-known/est/csrattrs", null, null);

        assertThat(attrs.hasRequirement(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey)).isTrue();
        assertThat(attrs.isAttribute(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.id_ecPublicKey)).isTrue();
        assertThat(attrs.hasRequirement(org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA256)).isTrue();
        byte[] der = Base64.getMimeDecoder().decode(plain.body());
        assertThat(org.bouncycastle.asn1.ASN1Sequence.getInstance(der).toString())
                .as("the curve named as the attribute's value").contains("1.2.840.10045.3.1.7");
        assertThat(plain.contentType()).isEqualTo("application/csrattrs");
        assertThat(unknown.status()).isEqualTo(404);
    }

    // ---------------------------------------------------------------- simpleenroll

    private static org.bouncycastle.pkcs.PKCS10CertificationRequest csr(java.security.KeyPair keys) throws Exception {
        return new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                new org.bouncycastle.asn1.x500.X500Name("CN=ignored"), keys.getPublic())
                .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                        .build(keys.getPrivate()));
    }

    private static java.security.KeyPair p256() throws Exception {
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    @Test
    void simpleenrollWhenBouncyCastleClientAuthenticatesWithTheTokenThenCertificateForThatDevice() throws Exception {
        String device = deviceId("est");
        String token = client().token(ADMIN_KEY, device, "device", null);
        java.security.KeyPair keys = p256();

        org.bouncycastle.est.EnrollmentResponse r = est(null).simpleEnroll(false, csr(keys),
                new org.bouncycastle.est.HttpAuth("trent-est", device, token.toCharArray()));

        assertThat(r.isCompleted()).isTrue();
        List<X509Certificate> issued = new ArrayList<>();
        for (Object o : r.getStore().getMatches(null)) {
            issued.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
        }
        assertThat(issued).hasSize(1);
        assertThat(issued.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=" + device);
        assertThat(issued.get(0).getPublicKey()).isEqualTo(keys.getPublic());
        issued.get(0).verify(chain().get(0).getPublicKey());
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is not null",
                Integer.class, device)).isEqualTo(1);
    }

    @Test
    void simpleenrollWhenCurlPostsBase64CsrWithLineBreaksThenOpensslVerifiesTheCertificate() throws Exception {
        Openssl.assumeAvailable();
        String device = deviceId("est-curl");
        String token = client().token(ADMIN_KEY, device, "device", null);
        List<X509Certificate> chain = chain();
        Files.writeString(dir.resolve("root.pem"), Pem.certificates(chain.subList(chain.size() - 1, chain.size())));
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(chain.subList(0, 1)));
        Openssl.ok(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "device.key", "-out", "device.der", "-outform", "DER", "-subj", "/CN=" + device);
        Files.write(dir.resolve("device.b64"), Base64.getMimeEncoder().encode(Files.readAllBytes(dir.resolve("device.der"))));

        Process curl = new ProcessBuilder("curl", "-sS", "--fail-with-body", "--cacert", "root.pem", "--user",
                device + ":" + token, "-H", "Content-Type: application/pkcs10", "-H", "Content-Transfer-Encoding: base64",
                "--data-binary", "@device.b64", "-o", "issued.b64",
                "https://localhost:" + tls.port() + "/.well-known/est/device/simpleenroll")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String curlOut = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(curl.waitFor()).as(curlOut).isZero();
        Files.write(dir.resolve("issued.p7"), Base64.getMimeDecoder().decode(Files.readAllBytes(dir.resolve("issued.b64"))));
        Openssl.ok(dir, "pkcs7", "-inform", "DER", "-in", "issued.p7", "-print_certs", "-out", "leaf.pem");

        Openssl.ok(dir, "verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "-purpose", "sslclient", "leaf.pem");
    }

    @Test
    void simpleenrollRefusalsThen401WithBasicChallenge400Or404AndTheTokenStaysUnused() throws Exception {
        String device = deviceId("est-refuse");
        String token = client().token(ADMIN_KEY, device, "device", null);
        byte[] body = Base64.getMimeEncoder().encode(csr(p256()).getEncoded());
        TrentClient https = TrentClient.https(tls.port(), chain().get(chain().size() - 1));
        java.util.function.BiFunction<String, String, TrentClient.Response> post = (path, auth) -> https.send("POST",
                path, auth == null ? java.util.Map.of("Content-Type", "application/pkcs10")
                        : java.util.Map.of("Content-Type", "application/pkcs10", "Authorization", auth), body);
        String basic = "Basic " + Base64.getEncoder().encodeToString((device + ":" + token).getBytes());
        String otherDevice = "Basic " + Base64.getEncoder().encodeToString(("someone-else:" + token).getBytes());

        TrentClient.Response none = post.apply("/.well-known/est/simpleenroll", null);
        TrentClient.Response wrongDevice = post.apply("/.well-known/est/simpleenroll", otherDevice);
        TrentClient.Response wrongLabel = post.apply("/.well-known/est/server/simpleenroll", basic);
        TrentClient.Response unknownLabel = post.apply("/.well-known/est/nope/simpleenroll", basic);
        TrentClient.Response cleartext = client().send("POST", "/.well-known/est/simpleenroll", java.util.Map.of(
                "Content-Type", "application/pkcs10", "Authorization", basic), body);

        assertThat(none.status()).isEqualTo(401);
        assertThat(none.header("WWW-Authenticate")).startsWith("Basic realm=\"trent-est\"");
        assertThat(wrongDevice.status()).isEqualTo(401);
        assertThat(wrongDevice.header("WWW-Authenticate")).startsWith("Basic");
        String unknownDetail = post.apply("/.well-known/est/simpleenroll", "Basic " + Base64.getEncoder()
                .encodeToString((device + ":trent_et_" + "A".repeat(43)).getBytes())).json().get("detail").asText();
        assertThat(wrongDevice.json().get("detail").asText()).as("another device's name does not confirm the token")
                .isEqualTo(unknownDetail).doesNotContain("someone-else");
        assertThat(wrongLabel.status()).isEqualTo(400);
        assertThat(wrongLabel.json().get("type").asText()).isEqualTo("https://trent.dev/problems/profile-mismatch");
        assertThat(unknownLabel.status()).isEqualTo(404);
        assertThat(cleartext.status()).as("a token in HTTP Basic only over TLS").isEqualTo(403);
        assertThat(cleartext.json().get("type").asText()).isEqualTo("https://trent.dev/problems/tls-required");
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).as("nothing consumed the token").isEqualTo(1);
    }

    // ---------------------------------------------------------------- serverkeygen

    @Test
    void serverkeygenWhenBouncyCastleClientAsksThenPkcs8KeyAndCertificateThatBelongTogether() throws Exception {
        String device = deviceId("est-keygen");
        String token = client().token(ADMIN_KEY, device, "device", null);

        org.bouncycastle.est.EnrollmentResponse r = est(null).simpleEnrollWithServersideCreation(csr(p256()),
                new org.bouncycastle.est.HttpAuth("trent-est", device, token.toCharArray()));

        org.bouncycastle.asn1.pkcs.PrivateKeyInfo keyInfo = r.getPrivateKeyInfo();
        assertThat(keyInfo).as("a PKCS#8 key in the multipart answer").isNotNull();
        java.security.PrivateKey key = java.security.KeyFactory.getInstance("EC")
                .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(keyInfo.getEncoded()));
        List<X509Certificate> issued = new ArrayList<>();
        for (Object o : r.getStore().getMatches(null)) {
            issued.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
        }
        assertThat(issued).hasSize(1);
        assertThat(issued.get(0).getSubjectX500Principal().getName()).isEqualTo("CN=" + device);
        java.security.Signature s = java.security.Signature.getInstance("SHA256withECDSA");
        s.initSign(key);
        s.update(new byte[] {7});
        byte[] sig = s.sign();
        java.security.Signature v = java.security.Signature.getInstance("SHA256withECDSA");
        v.initVerify(issued.get(0).getPublicKey());
        v.update(new byte[] {7});
        assertThat(v.verify(sig)).as("the key belongs to the certificate").isTrue();

        TrentClient.Response again = TrentClient.https(tls.port(), chain().get(chain().size() - 1)).send("POST",
                "/.well-known/est/serverkeygen", java.util.Map.of(
                "Content-Type", "application/pkcs10", "Authorization", "Basic " + Base64.getEncoder().encodeToString(
                        (device + ":" + token).getBytes())), Base64.getMimeEncoder().encode(csr(p256()).getEncoded()));
        assertThat(again.status()).as("a generated key is handed out once").isEqualTo(409);
    }

    @Test
    void serverkeygenWhenCsrIsMalformedOrAsksForAnEncryptedKeyThen400AndTheTokenStaysUnused() throws Exception {
        String device = deviceId("est-keygen-enc");
        String token = client().token(ADMIN_KEY, device, "device", null);
        java.security.KeyPair keys = p256();
        // RFC 7030 4.4.1.2: AsymmetricDecryptKeyIdentifier asks for the key encrypted to another key.
        org.bouncycastle.pkcs.PKCS10CertificationRequest encrypted = new org.bouncycastle.pkcs.jcajce
                .JcaPKCS10CertificationRequestBuilder(new org.bouncycastle.asn1.x500.X500Name("CN=" + device),
                        keys.getPublic())
                .addAttribute(new org.bouncycastle.asn1.ASN1ObjectIdentifier("1.2.840.113549.1.9.16.2.54"),
                        new org.bouncycastle.asn1.DEROctetString(new byte[] {1, 2, 3, 4}))
                .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                        .build(keys.getPrivate()));
        TrentClient https = TrentClient.https(tls.port(), chain().get(chain().size() - 1));
        java.util.Map<String, String> headers = java.util.Map.of("Content-Type", "application/pkcs10", "Authorization",
                "Basic " + Base64.getEncoder().encodeToString((device + ":" + token).getBytes()));

        TrentClient.Response refused = https.send("POST", "/.well-known/est/serverkeygen", headers,
                Base64.getMimeEncoder().encode(encrypted.getEncoded()));
        TrentClient.Response garbage = https.send("POST", "/.well-known/est/serverkeygen", headers,
                Base64.getMimeEncoder().encode(new byte[] {0x30, 0x03, 1, 2, 3}));

        assertThat(refused.status()).as(refused.toString()).isEqualTo(400);
        assertThat(refused.json().get("type").asText()).endsWith("/key-encryption-unsupported");
        assertThat(garbage.status()).as(garbage.toString()).isEqualTo(400);
        assertThat(garbage.json().get("type").asText()).endsWith("/csr-malformed");
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).as("nothing consumed the token").isEqualTo(1);
    }
}
