package dev.trent.est;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.est.EnrollmentResponse;
import org.bouncycastle.est.jcajce.JsseESTServiceBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TestTls;
import dev.trent.support.TrentClient;
import dev.trent.tls.TlsServer;

/**
 * IDevID enrollment: a device's factory certificate, from a manufacturer CA the operator
 * registered, authorises its first operational certificate over EST simpleenroll; and every
 * refusal (unregistered or removed manufacturer CA, expired factory certificate, the factory key
 * reused, a second enrollment, plain HTTP), with Bouncy Castle's EST client, the JDK's and curl.
 */
class IdevidIT extends IntegrationTest {

    @Autowired
    private TlsServer tls;

    @TempDir
    Path dir;

    /** A manufacturer's CA: key and self-signed certificate. */
    record Ca(KeyPair keys, X509Certificate certificate) {
    }

    /** A device as it leaves the factory: its IDevID key and certificate (and the chain above it). */
    record Factory(KeyPair keys, X509Certificate certificate, List<X509Certificate> chain) {
    }

    private static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private static X509Certificate sign(X500Name issuer, KeyPair issuerKeys, X500Name subject,
            java.security.PublicKey key, boolean ca, Instant from, Instant to) throws Exception {
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, new BigInteger(64, RANDOM).setBit(0),
                Date.from(from), Date.from(to), subject, key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ca ? KeyUsage.keyCertSign | KeyUsage.cRLSign
                : KeyUsage.digitalSignature));
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    }

    static Ca manufacturer(String name) throws Exception {
        KeyPair keys = p256();
        X500Name subject = new X500Name("CN=" + name + " Device Root CA,O=" + name);
        Instant now = Instant.now();
        return new Ca(keys, sign(subject, keys, subject, keys.getPublic(), true, now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(3650))));
    }

    static Factory device(Ca ca, String serialNumber, Instant notAfter) throws Exception {
        KeyPair keys = p256();
        X500Name subject = new X500Name("CN=Sensor,serialNumber=" + serialNumber + ",O=Acme");
        X509Certificate cert = sign(X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
                ca.keys(), subject, keys.getPublic(), false, Instant.now().minus(Duration.ofDays(400)), notAfter);
        return new Factory(keys, cert, List.of(cert));
    }

    static Factory device(Ca ca, String serialNumber) throws Exception {
        return device(ca, serialNumber, Instant.parse("9999-12-31T23:59:59Z")); // 802.1AR: no well-defined expiry
    }

    private static PKCS10CertificationRequest csr(KeyPair keys) throws Exception {
        return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=operational"), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
    }

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    private X509Certificate root() {
        List<X509Certificate> c = chain();
        return c.get(c.size() - 1);
    }

    private TrentClient.Response register(String name, X509Certificate ca, String profile, String prefix) {
        java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("name", name);
        body.put("certificate", Pem.certificate(ca));
        if (profile != null) {
            body.put("profile", profile);
        }
        if (prefix != null) {
            body.put("deviceIdPrefix", prefix);
        }
        return client().postJson("/api/v1/manufacturer-cas", ADMIN_KEY, body);
    }

    /** The device id prefix of the CA {@link #registered} last (each current CA needs its own). */
    private String prefix;

    private long registered(String name, X509Certificate ca, String prefix) {
        this.prefix = prefix != null ? prefix : deviceId("m") + "-";
        TrentClient.Response r = register(name, ca, null, this.prefix);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("id").asLong();
    }

    /** simpleenroll over HTTPS presenting {@code factory} (JDK client: it offers the certificate only to a CA it was asked for). */
    private HttpResponse<String> simpleenroll(Factory factory, byte[] csrDer, String label) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("idevid", factory.keys().getPrivate(), "x".toCharArray(),
                factory.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), new javax.net.ssl.TrustManager[] {TestTls.trusting(root())}, null);
        return HttpClient.newBuilder().sslContext(ssl).build().send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + tls.port() + "/.well-known/est/" + (label == null ? "" : label + "/")
                        + "simpleenroll"))
                .header("Content-Type", "application/pkcs10")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Base64.getMimeEncoder().encode(csrDer))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static X509Certificate issued(HttpResponse<String> r) throws Exception {
        org.bouncycastle.cms.CMSSignedData p7 = new org.bouncycastle.cms.CMSSignedData(
                Base64.getMimeDecoder().decode(r.body()));
        List<X509Certificate> out = new ArrayList<>();
        for (Object o : p7.getCertificates().getMatches(null)) {
            out.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
        }
        assertThat(out).hasSize(1);
        return out.get(0);
    }

    private static String type(HttpResponse<String> r) {
        return TrentClient.JSON.readTree(r.body()).get("type").asText();
    }

    @Test
    void simpleenrollWhenBouncyCastleClientPresentsAFactoryCertificateThenOperationalCertificateForItsSerialNumber()
            throws Exception {
        Ca acme = manufacturer("Acme " + deviceId("bc"));
        registered(acme.certificate().getSubjectX500Principal().getName(), acme.certificate(), "acme-");
        String serial = deviceId("SN");
        Factory factory = device(acme, serial);
        KeyPair operational = p256();

        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("idevid", factory.keys().getPrivate(), "x".toCharArray(), new X509Certificate[] {factory.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        EnrollmentResponse r = new JsseESTServiceBuilder("localhost:" + tls.port(), TestTls.trusting(root()))
                .withKeyManagers(kmf.getKeyManagers()).build().simpleEnroll(false, csr(operational), null);

        assertThat(r.isCompleted()).isTrue();
        List<X509Certificate> certs = new ArrayList<>();
        for (Object o : r.getStore().getMatches(null)) {
            certs.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
        }
        assertThat(certs).hasSize(1);
        X509Certificate cert = certs.get(0);
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=acme-" + serial);
        assertThat(cert.getPublicKey()).isEqualTo(operational.getPublic());
        cert.verify(chain().get(0).getPublicKey());
        String hex = cert.getSerialNumber().toString(16);
        assertThat(jdbc.queryForObject("select e.device_id from idevid_enrollment e join certificate c on c.id = "
                + "e.certificate_id where c.serial = ?", String.class, hex)).isEqualTo("acme-" + serial);
        String details = jdbc.queryForObject("select details::text from audit_event where action = 'certificate.issued' "
                + "and subject = ?", String.class, hex);
        assertThat(details).contains("manufacturerCa").contains(serial);

        // The operational certificate then renews like any other (simplereenroll).
        KeyStore opKs = KeyStore.getInstance("PKCS12");
        opKs.load(null, null);
        opKs.setKeyEntry("op", operational.getPrivate(), "x".toCharArray(), new X509Certificate[] {cert});
        KeyManagerFactory opKmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        opKmf.init(opKs, "x".toCharArray());
        EnrollmentResponse renewed = new JsseESTServiceBuilder("localhost:" + tls.port(), TestTls.trusting(root()))
                .withKeyManagers(opKmf.getKeyManagers()).build().simpleEnroll(true,
                        new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=acme-" + serial), operational.getPublic())
                                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(operational.getPrivate())),
                        null);
        assertThat(renewed.isCompleted()).isTrue();
    }

    @Test
    void simpleenrollWhenFactoryChainHasAnIntermediateThenItIsBuiltToTheRegisteredRoot() throws Exception {
        Ca root = manufacturer("Chain " + deviceId("co"));
        registered(root.certificate().getSubjectX500Principal().getName(), root.certificate(), null);
        KeyPair intKeys = p256();
        X500Name intName = new X500Name("CN=Chain Factory Line 3");
        X509Certificate intermediate = sign(X500Name.getInstance(root.certificate().getSubjectX500Principal().getEncoded()),
                root.keys(), intName, intKeys.getPublic(), true, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(365)));
        KeyPair leafKeys = p256();
        String serial = deviceId("line3");
        X509Certificate leaf = sign(intName, intKeys, new X500Name("serialNumber=" + serial), leafKeys.getPublic(), false,
                Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(365)));

        HttpResponse<String> r = simpleenroll(new Factory(leafKeys, leaf, List.of(leaf, intermediate)),
                csr(p256()).getEncoded(), null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(issued(r).getSubjectX500Principal().getName()).isEqualTo("CN=" + prefix + serial);
    }

    @Test
    void simpleenrollWhenRetriedThenSameCertificateAndAnotherKeyOrAnotherFactoryCertificateIsRefused() throws Exception {
        Ca acme = manufacturer("Once " + deviceId("o"));
        registered(acme.certificate().getSubjectX500Principal().getName(), acme.certificate(), null);
        String serial = deviceId("once");
        Factory factory = device(acme, serial);
        byte[] first = csr(p256()).getEncoded();

        HttpResponse<String> a = simpleenroll(factory, first, null);
        HttpResponse<String> retry = simpleenroll(factory, first, null);
        HttpResponse<String> otherKey = simpleenroll(factory, csr(p256()).getEncoded(), null);
        HttpResponse<String> sameSerialNewCert = simpleenroll(device(acme, serial), csr(p256()).getEncoded(), null);

        assertThat(a.statusCode()).as(a.body()).isEqualTo(200);
        assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
        assertThat(issued(retry)).as("a lost response is answered again").isEqualTo(issued(a));
        assertThat(otherKey.statusCode()).isEqualTo(409);
        assertThat(type(otherKey)).endsWith("/idevid-already-enrolled");
        assertThat(sameSerialNewCert.statusCode()).isEqualTo(409);
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class,
                prefix + serial))
                .isEqualTo(1);
    }

    @Test
    void simpleenrollRefusalsThenNothingIssued() throws Exception {
        Ca acme = manufacturer("Refuse " + deviceId("r"));
        long id = registered(acme.certificate().getSubjectX500Principal().getName(), acme.certificate(), null);

        Factory expired = device(acme, deviceId("expired"), Instant.now().minus(Duration.ofDays(1)));
        HttpResponse<String> expiredR = simpleenroll(expired, csr(p256()).getEncoded(), null);
        assertThat(expiredR.statusCode()).as(expiredR.body()).isEqualTo(403);
        assertThat(type(expiredR)).endsWith("/client-certificate-invalid");

        Factory reuse = device(acme, deviceId("reuse"));
        HttpResponse<String> reuseR = simpleenroll(reuse, csr(reuse.keys()).getEncoded(), null);
        assertThat(reuseR.statusCode()).as(reuseR.body()).isEqualTo(400);
        assertThat(type(reuseR)).endsWith("/key-refused");

        Factory labelled = device(acme, deviceId("label"));
        HttpResponse<String> labelR = simpleenroll(labelled, csr(p256()).getEncoded(), "server");
        assertThat(labelR.statusCode()).as(labelR.body()).isEqualTo(400);
        assertThat(type(labelR)).endsWith("/profile-mismatch");

        // Removed: the CA authorises nothing more (and is no longer named in the CertificateRequest,
        // so the JDK client does not even offer the certificate: no credential, 401).
        TrentClient.Response removed = client().send("DELETE", "/api/v1/manufacturer-cas/" + id,
                Map.of("Authorization", "Bearer " + ADMIN_KEY), null);
        assertThat(removed.status()).as(removed.toString()).isEqualTo(200);
        Factory late = device(acme, deviceId("late"));
        HttpResponse<String> lateR = simpleenroll(late, csr(p256()).getEncoded(), null);
        assertThat(lateR.statusCode()).as("the JDK client no longer offers it: " + lateR.body()).isEqualTo(401);
        String lateCurl = curlEnroll(late);
        assertThat(lateCurl).as("curl presents it anyway").startsWith("403").contains("client-certificate-invalid");

        for (String device : List.of(expired, reuse, labelled, late).stream()
                .map(f -> prefix + dev.trent.manufacturer.ManufacturerCas.deviceName(f.certificate(), "serialNumber"))
                .toList()) {
            assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class, device))
                    .as(device).isZero();
        }
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'manufacturer-ca.removed' "
                + "and subject = ?", Integer.class, String.valueOf(id))).isEqualTo(1);
    }

    /** simpleenroll with curl presenting {@code f}'s certificate whatever the CertificateRequest names: "code body". */
    private String curlEnroll(Factory f) throws Exception {
        Openssl.assumeAvailable();
        Files.writeString(dir.resolve("root.pem"), Pem.certificate(root()));
        Files.writeString(dir.resolve("idevid.pem"), Pem.certificates(f.chain()));
        Files.writeString(dir.resolve("idevid.key"), Pem.encode("PRIVATE KEY", f.keys().getPrivate().getEncoded()));
        Files.write(dir.resolve("csr.b64"), Base64.getMimeEncoder().encode(csr(p256()).getEncoded()));
        Process curl = new ProcessBuilder("curl", "-sS", "--cacert", "root.pem", "--cert", "idevid.pem", "--key",
                "idevid.key", "-H", "Content-Type: application/pkcs10", "--data-binary", "@csr.b64", "-o", "out", "-w",
                "%{http_code}", "https://localhost:" + tls.port() + "/.well-known/est/simpleenroll")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String code = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(curl.waitFor()).as(code).isZero();
        return code + " " + Files.readString(dir.resolve("out"));
    }

    @Test
    void simpleenrollWhenTheFactoryCertificateNamesADeviceIdInUseThen409AndNothingIssued() throws Exception {
        Ca acme = manufacturer("Taken " + deviceId("t"));
        String p = deviceId("tk") + "-";
        registered(acme.certificate().getSubjectX500Principal().getName(), acme.certificate(), p);
        String serial = deviceId("SN");
        client().token(ADMIN_KEY, p + serial, "device", null); // the operator's device of that name

        HttpResponse<String> r = simpleenroll(device(acme, serial), csr(p256()).getEncoded(), null);

        assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
        assertThat(type(r)).endsWith("/device-id-taken");
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class, p + serial))
                .isZero();
    }

    @Test
    void simpleenrollWhenTheManufacturerCaExpiredOrItsPathLengthIsExceededThen403() throws Exception {
        // A CA valid for three more seconds: registered now, expired when the device comes.
        KeyPair shortKeys = p256();
        X500Name shortName = new X500Name("CN=Short-lived " + deviceId("s"));
        X509Certificate shortLived = sign(shortName, shortKeys, shortName, shortKeys.getPublic(), true,
                Instant.now().minus(Duration.ofDays(1)), Instant.now().plusSeconds(3));
        registered(shortName.toString(), shortLived, null);
        Factory late = device(new Ca(shortKeys, shortLived), deviceId("late"), Instant.now().plus(Duration.ofDays(30)));
        Thread.sleep(4000);
        String expired = curlEnroll(late);
        assertThat(expired).startsWith("403").contains("client-certificate-invalid");

        // pathLenConstraint 0 on the registered CA, and an intermediate below it.
        KeyPair rootKeys = p256();
        X500Name rootName = new X500Name("CN=PathLen0 " + deviceId("p"));
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(rootName, BigInteger.valueOf(7),
                Date.from(Instant.now().minus(Duration.ofDays(1))), Date.from(Instant.now().plus(Duration.ofDays(30))),
                rootName, rootKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        X509Certificate root0 = new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(rootKeys.getPrivate())));
        registered(rootName.toString(), root0, null);
        KeyPair intKeys = p256();
        X500Name intName = new X500Name("CN=Below PathLen0");
        X509Certificate intermediate = sign(rootName, rootKeys, intName, intKeys.getPublic(), true,
                Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)));
        KeyPair leafKeys = p256();
        X509Certificate leaf = sign(intName, intKeys, new X500Name("serialNumber=" + deviceId("deep")),
                leafKeys.getPublic(), false, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)));
        String deep = curlEnroll(new Factory(leafKeys, leaf, List.of(leaf, intermediate)));
        assertThat(deep).startsWith("403").contains("pathLenConstraint");
    }

    @Test
    void simpleenrollWhenCurlPresentsACertificateFromAnUnregisteredCaThen403AndFromARegisteredOne200() throws Exception {
        Openssl.assumeAvailable();
        Ca unknown = manufacturer("Unknown " + deviceId("u"));
        Ca known = manufacturer("Known " + deviceId("k"));
        registered(known.certificate().getSubjectX500Principal().getName(), known.certificate(), null);
        Files.writeString(dir.resolve("root.pem"), Pem.certificate(root()));

        String[] outcomes = new String[2];
        int i = 0;
        for (Ca ca : List.of(unknown, known)) {
            String serial = deviceId("curl");
            Factory f = device(ca, serial);
            Files.writeString(dir.resolve("idevid.pem"), Pem.certificate(f.certificate()));
            Files.writeString(dir.resolve("idevid.key"), Pem.encode("PRIVATE KEY", f.keys().getPrivate().getEncoded()));
            Files.write(dir.resolve("csr.b64"), Base64.getMimeEncoder().encode(csr(p256()).getEncoded()));
            Process curl = new ProcessBuilder("curl", "-sS", "--cacert", "root.pem", "--cert", "idevid.pem", "--key",
                    "idevid.key", "-H", "Content-Type: application/pkcs10", "--data-binary", "@csr.b64",
                    "-o", "out", "-w", "%{http_code}",
                    "https://localhost:" + tls.port() + "/.well-known/est/simpleenroll")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            String code = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(curl.waitFor()).as(code).isZero();
            outcomes[i++] = code + " " + Files.readString(dir.resolve("out"));
        }
        assertThat(outcomes[0]).startsWith("403").contains("client-certificate-invalid")
                .contains("does not chain to a registered manufacturer CA");
        assertThat(outcomes[1]).startsWith("200").contains("MII");
    }

    @Test
    void certificateRequestNamesRegisteredManufacturerCasForOpensslClients() throws Exception {
        Openssl.assumeAvailable();
        String name = deviceId("n");
        Ca acme = manufacturer("Named " + name);
        registered("Named CA " + deviceId("x"), acme.certificate(), null);
        Files.writeString(dir.resolve("root.pem"), Pem.certificate(root()));

        // TLS 1.2: the CertificateRequest's certificate_authorities, which openssl prints.
        Openssl.Result r = Openssl.run(dir, "s_client", "-connect", "localhost:" + tls.port(), "-CAfile", "root.pem",
                "-tls1_2");
        assertThat(r.output()).contains("Acceptable client certificate CA names")
                .contains("CN = Named " + name + " Device Root CA");
    }

    @Test
    void registrationIsAdminOnlyAuditedAndRefusesWhatIsNotAManufacturerCa() throws Exception {
        Ca acme = manufacturer("Reg " + deviceId("g"));
        String operator = client().postJson("/api/v1/api-keys", ADMIN_KEY, Map.of("name", "op", "role", "OPERATOR"))
                .json().get("key").asText();
        String auditor = client().postJson("/api/v1/api-keys", ADMIN_KEY, Map.of("name", "au", "role", "AUDITOR"))
                .json().get("key").asText();

        assertThat(client().postJson("/api/v1/manufacturer-cas", operator, Map.of("name", "x", "certificate",
                Pem.certificate(acme.certificate()))).status()).isEqualTo(403);
        String name = "Reg CA " + deviceId("n");
        TrentClient.Response created = register(name, acme.certificate(), "device", "reg-");
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        assertThat(created.header("Location")).isEqualTo("/api/v1/manufacturer-cas/" + created.json().get("id").asLong());
        assertThat(created.json().get("sha256").asText()).hasSize(64);
        TrentClient.Response list = client().get("/api/v1/manufacturer-cas", auditor, null);
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.text()).contains(name);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'manufacturer-ca.registered' "
                + "and subject = ?", Integer.class, created.json().get("id").asText())).isEqualTo(1);

        TrentClient.Response badPrefix = register("bp " + deviceId("b"), manufacturer("BP").certificate(), null, "acme");
        assertThat(badPrefix.status()).as("a prefix ends with a separator").isEqualTo(400);
        TrentClient.Response samePrefix = register("sp " + deviceId("b"), manufacturer("SP").certificate(), null, "reg-");
        assertThat(samePrefix.status()).as("each manufacturer CA has its own prefix").isEqualTo(409);
        TrentClient.Response duplicate = register(name + "-again", acme.certificate(), null, null);
        assertThat(duplicate.status()).isEqualTo(409);
        Factory leaf = device(acme, "not-a-ca");
        TrentClient.Response notCa = register("leaf " + deviceId("l"), leaf.certificate(), null, null);
        assertThat(notCa.status()).isEqualTo(400);
        assertThat(notCa.json().get("type").asText()).endsWith("/not-a-ca-certificate");
        TrentClient.Response own = register("own " + deviceId("o"), root(), null, null);
        assertThat(own.status()).isEqualTo(400);
        assertThat(own.json().get("type").asText()).endsWith("/own-ca-certificate");
        TrentClient.Response unknownProfile = register("p " + deviceId("p"), manufacturer("P").certificate(), "nope", null);
        assertThat(unknownProfile.status()).isEqualTo(400);
        TrentClient.Response garbage = client().postJson("/api/v1/manufacturer-cas", ADMIN_KEY,
                Map.of("name", "g", "certificate", "not a certificate"));
        assertThat(garbage.status()).isEqualTo(400);
        assertThat(garbage.json().get("detail").asText()).contains("PEM");
    }
}
