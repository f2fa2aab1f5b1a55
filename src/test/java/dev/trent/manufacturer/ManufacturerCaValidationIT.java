package dev.trent.manufacturer;

import static dev.trent.manufacturer.HostileCertificates.der;
import static dev.trent.manufacturer.HostileCertificates.name;
import static dev.trent.manufacturer.HostileCertificates.p256;
import static dev.trent.manufacturer.HostileCertificates.selfSignedCa;
import static dev.trent.manufacturer.HostileCertificates.serial;
import static dev.trent.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLSocket;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.trent.pki.Hashes;
import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TestTls;
import dev.trent.support.TrentClient;
import dev.trent.tls.TlsServer;

/**
 * Manufacturer CA registration under attack: hostile certificates (a CN that is a BOOLEAN, a
 * self-signature that does not verify, no CA, deep BER, oversized, trailing bytes, BER lengths,
 * bad serials, an intermediate without its chain) each answered 400 problem+json with nothing
 * stored or audited; then hostile rows written straight into the database, as a Trent from
 * before these checks could hold, and real handshakes with {@code openssl s_client}, the JDK's
 * SSLSocket and HttpClient and curl, each presenting a client certificate, all succeeding, and an
 * IDevID enrollment through a good CA beside them.
 */
@ExtendWith(OutputCaptureExtension.class)
class ManufacturerCaValidationIT extends IntegrationTest {

    @Autowired
    private TlsServer tls;

    @Autowired
    private ManufacturerCas manufacturerCas;

    @TempDir
    Path dir;

    private X509Certificate root() {
        List<X509Certificate> c = client().get("/api/v1/ca/chain", null, null).certificates();
        return c.get(c.size() - 1);
    }

    private TrentClient.Response register(String name, String pem) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", name);
        body.put("certificate", pem);
        body.put("deviceIdPrefix", deviceId("v") + "-");
        return client().postJson("/api/v1/manufacturer-cas", ADMIN_KEY, body);
    }

    private record Hostile(String label, String pem, String type, String says) {
        Hostile(String label, byte[] der, String type, String says) {
            this(label, Pem.encode("CERTIFICATE", der), type, says);
        }
    }

    @Test
    void registerWhenTheCertificateIsHostileThen400ProblemNamingTheDefectAndNothingStored() {
        KeyPair k = p256();
        X500Name bool = HostileCertificates.booleanCn();
        X500Name n = name("Hostile");
        byte[] good = selfSignedCa(name("Altered"), k);
        KeyPair rootKeys = p256();
        X500Name rootName = name("Manufacturer Root");
        byte[] intermediate = der(rootName, name("Line CA"), p256().getPublic(), rootKeys.getPrivate(), serial(), true,
                KeyUsage.keyCertSign);
        List<Hostile> cases = List.of(
                new Hostile("boolean CN", der(bool, bool, k.getPublic(), k.getPrivate(), serial(), true,
                        KeyUsage.keyCertSign), "certificate-malformed", "BOOLEAN, not a string type"),
                new Hostile("bad self-signature", der(n, n, k.getPublic(), p256().getPrivate(), serial(), true,
                        KeyUsage.keyCertSign), "certificate-signature-invalid", "self-signature does not verify"),
                new Hostile("not a CA", der(n, n, k.getPublic(), k.getPrivate(), serial(), false,
                        KeyUsage.digitalSignature), "not-a-ca-certificate", "basicConstraints cA is not set"),
                new Hostile("no keyCertSign", der(n, n, k.getPublic(), k.getPrivate(), serial(), true,
                        KeyUsage.cRLSign), "not-a-ca-certificate", "without keyCertSign"),
                new Hostile("deep BER", HostileCertificates.nestedIndefinite(4000), "certificate-malformed",
                        "indefinite length"),
                new Hostile("deep DER", HostileCertificates.nestedDefinite(3000), "certificate-malformed",
                        "nested deeper than 16"),
                new Hostile("oversized", HostileCertificates.oversized(k), "certificate-malformed",
                        "at most 16384 are accepted"),
                new Hostile("trailing garbage", HostileCertificates.withTrailing(good, (byte) 0x05, (byte) 0x00),
                        "certificate-malformed", "trailing data"),
                new Hostile("non-DER length", HostileCertificates.nonMinimalLength(good), "certificate-malformed",
                        "non-minimal length"),
                new Hostile("negative serial", der(n, n, k.getPublic(), k.getPrivate(), BigInteger.valueOf(-7), true,
                        null), "certificate-malformed", "serial number is not positive"),
                new Hostile("21-octet serial", der(n, n, k.getPublic(), k.getPrivate(), BigInteger.ONE.shiftLeft(165),
                        true, null), "certificate-malformed", "longer than 20 octets"),
                new Hostile("intermediate alone", intermediate, "certificate-chain-invalid", "not self-signed"),
                new Hostile("intermediate and a forged root", Pem.encode("CERTIFICATE", intermediate)
                        + Pem.encode("CERTIFICATE", selfSignedCa(rootName, p256())), "certificate-signature-invalid",
                        "does not verify with the key of its issuer"),
                new Hostile("a private key", Pem.encode("PRIVATE KEY", k.getPrivate().getEncoded()), "invalid-request",
                        "PRIVATE KEY"));
        int storedBefore = jdbc.queryForObject("select count(*) from manufacturer_ca", Integer.class);
        int auditedBefore = jdbc.queryForObject("select count(*) from audit_event where action = "
                + "'manufacturer-ca.registered'", Integer.class);

        List<String> outcomes = new ArrayList<>();
        for (Hostile h : cases) {
            TrentClient.Response r = register("hostile " + h.label() + " " + deviceId("h"), h.pem());
            assertProblem(r, 400, h.type());
            assertThat(r.json().get("detail").asText()).as(h.label()).contains(h.says());
            outcomes.add(h.label() + ": " + r.json().get("detail").asText());
        }

        assertThat(outcomes).hasSize(cases.size());
        assertThat(jdbc.queryForObject("select count(*) from manufacturer_ca", Integer.class))
                .as("nothing stored").isEqualTo(storedBefore);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'manufacturer-ca.registered'",
                Integer.class)).as("nothing audited as registered").isEqualTo(auditedBefore);
    }

    @Test
    void registerWhenAnIntermediateComesWithItsVerifyingChainThenOnlyTheIntermediateIsStored() {
        KeyPair rootKeys = p256();
        X500Name rootName = name("Chain Root");
        byte[] root = selfSignedCa(rootName, rootKeys);
        byte[] intermediate = der(rootName, name("Chain Line CA"), p256().getPublic(), rootKeys.getPrivate(), serial(),
                true, KeyUsage.keyCertSign);

        TrentClient.Response r = register("chained " + deviceId("c"), Pem.encode("CERTIFICATE", intermediate)
                + Pem.encode("CERTIFICATE", root));

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(r.json().get("sha256").asText()).isEqualTo(Hashes.sha256Hex(intermediate));
        assertThat(jdbc.queryForObject("select certificate_der from manufacturer_ca where id = ?", byte[].class,
                r.json().get("id").asLong())).isEqualTo(intermediate);
        assertThat(jdbc.queryForObject("select count(*) from manufacturer_ca where sha256 = ?", Integer.class,
                Hashes.sha256Hex(root))).as("the root only verified the signature").isZero();
        client().send("DELETE", "/api/v1/manufacturer-cas/" + r.json().get("id").asLong(),
                Map.of("Authorization", "Bearer " + ADMIN_KEY), null);
    }

    /** A row as a Trent from before the checks could have stored it: straight into the table. */
    private long insertRow(String label, byte[] der) {
        return jdbc.queryForObject("insert into manufacturer_ca (name, subject_dn, certificate_der, sha256, not_after, "
                + "profile, device_id_prefix, device_id_attribute, created_at, created_by) values (?, ?, ?, ?, ?, "
                + "'device', ?, 'serialNumber', ?, 'test') returning id", Long.class, label + " " + deviceId("row"),
                "CN=" + label, der, Hashes.sha256Hex(der), Timestamp.from(Instant.now().plusSeconds(86_400 * 365)),
                deviceId("row") + "-", Timestamp.from(Instant.now()));
    }

    @Test
    void handshakesWhenHostileRowsAreInTheDatabaseThenOpensslJavaAndCurlSucceedAndIdevidStillEnrolls(
            CapturedOutput output) throws Exception {
        Openssl.assumeAvailable();
        KeyPair k = p256();
        X500Name bool = HostileCertificates.booleanCn();
        long booleanRow = insertRow("boolean CN", der(bool, bool, k.getPublic(), k.getPrivate(), serial(), true,
                KeyUsage.keyCertSign));
        // A good manufacturer CA beside them, registered the normal way, and a device of it.
        KeyPair acmeKeys = p256();
        X500Name acmeName = name("Acme Devices Root");
        byte[] acmeDer = selfSignedCa(acmeName, acmeKeys);
        TrentClient.Response acme = register("acme " + deviceId("a"), Pem.encode("CERTIFICATE", acmeDer));
        assertThat(acme.status()).as(acme.toString()).isEqualTo(201);
        String prefix = acme.json().get("deviceIdPrefix").asText();
        KeyPair deviceKeys = p256();
        String deviceSerial = deviceId("SN");
        X509Certificate device = HostileCertificates.x509(der(acmeName, new X500Name("CN=Sensor,serialNumber="
                + deviceSerial), deviceKeys.getPublic(), acmeKeys.getPrivate(), serial(), false,
                KeyUsage.digitalSignature));
        tls.refreshClientCaNames(); // as the minute's refresh would
        long deepRow = 0;
        long garbageRow = 0;

        try {
            Files.writeString(dir.resolve("root.pem"), Pem.certificate(root()));
            Files.writeString(dir.resolve("device.pem"), Pem.certificate(device));
            Files.writeString(dir.resolve("device.key"), Pem.encode("PRIVATE KEY", deviceKeys.getPrivate().getEncoded()));
            String acmeCn = "CN = " + acmeName.getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN)[0].getFirst()
                    .getValue();
            // Before the checks, OpenSSL aborted here: "mstring wrong tag" on the BOOLEAN CN in the CA list.
            opensslHandshakes(acmeCn);

            // Rows the JDK's parser cannot read, or would recurse into: skipped too.
            deepRow = insertRow("deep BER", HostileCertificates.nestedIndefinite(4000));
            garbageRow = insertRow("garbage", "not a certificate".getBytes(StandardCharsets.US_ASCII));
            tls.refreshClientCaNames();
            opensslHandshakes(acmeCn);

            // The list still answers (the rows can be seen and removed); the bad rows are warned about once.
            TrentClient.Response list = client().get("/api/v1/manufacturer-cas", ADMIN_KEY, null);
            assertThat(list.status()).as(list.toString()).isEqualTo(200);
            assertThat(list.text()).contains("boolean CN").contains("deep BER").contains("garbage");
            for (long id : List.of(booleanRow, deepRow, garbageRow)) {
                assertThat(output.getOut()).contains("Manufacturer CA " + id + " (");
            }
            assertThat(output.getOut()).contains("BOOLEAN, not a string type").contains("indefinite length");

            // The JDK's SSLSocket: it offers the device certificate because the good CA is still named.
            javax.net.ssl.SSLContext jdk = TestTls.context(root(), deviceKeys, device);
            try (SSLSocket socket = (SSLSocket) jdk.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(),
                    tls.port())) {
                socket.startHandshake();
                assertThat(socket.getSession().getLocalCertificates()).as("client certificate sent")
                        .containsExactly(device);
            }
            // The JDK's HttpClient, client certificate and all: an IDevID enrollment through the good CA.
            KeyPair operational = p256();
            byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=op"), operational.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(operational.getPrivate())).getEncoded();
            HttpResponse<String> enrolled = HttpClient.newBuilder().sslContext(jdk).build().send(HttpRequest
                    .newBuilder(URI.create("https://localhost:" + tls.port() + "/.well-known/est/simpleenroll"))
                    .header("Content-Type", "application/pkcs10")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Base64.getMimeEncoder().encode(csr))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(enrolled.statusCode()).as(enrolled.body()).isEqualTo(200);
            assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class,
                    prefix + deviceSerial)).isEqualTo(1);

            // curl (OpenSSL underneath, like most device stacks), client certificate presented.
            assertCurlAvailable();
            Process curl = new ProcessBuilder("curl", "-sS", "--cacert", "root.pem", "--cert", "device.pem", "--key",
                    "device.key", "-o", "chain.pem", "-w", "%{http_code}",
                    "https://localhost:" + tls.port() + "/api/v1/ca/chain")
                    .directory(dir.toFile()).redirectErrorStream(true).start();
            String code = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(curl.waitFor()).as(code).isZero();
            assertThat(code).isEqualTo("200");
            assertThat(Files.readString(dir.resolve("chain.pem"))).contains("-----BEGIN CERTIFICATE-----");
        } finally {
            for (long id : List.of(booleanRow, deepRow, garbageRow, acme.json().get("id").asLong())) {
                if (id == 0) {
                    continue;
                }
                TrentClient.Response removed = client().send("DELETE", "/api/v1/manufacturer-cas/" + id,
                        Map.of("Authorization", "Bearer " + ADMIN_KEY), null);
                assertThat(removed.status()).as("an unusable row can be removed: " + removed).isEqualTo(200);
            }
            tls.refreshClientCaNames();
        }
    }

    /**
     * The console registers and removes through the service, not the API: the CertificateRequest
     * follows at once all the same, with no refresh in between (the service's event, acted on
     * after the commit), and not a minute later.
     */
    @Test
    void certificateRequestWhenACaIsRegisteredAndRemovedThroughTheServiceThenNamesItAtOnceAndThenNoMore()
            throws Exception {
        Openssl.assumeAvailable();
        X500Name caName = name("Console Registered");
        String cn = "CN = " + caName.getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN)[0].getFirst().getValue();
        Files.writeString(dir.resolve("root.pem"), Pem.certificate(root()));

        ManufacturerCas.View view = manufacturerCas.register("console " + deviceId("k"),
                Pem.encode("CERTIFICATE", selfSignedCa(caName, p256())), null, deviceId("k") + "-", null,
                "api-key:0:console-test");
        String named = acceptableClientCaNames();
        manufacturerCas.remove(view.id(), "api-key:0:console-test");
        String afterRemoval = acceptableClientCaNames();

        assertThat(named).as("named once registered").contains(cn);
        assertThat(afterRemoval).as("no longer named once removed").doesNotContain(cn);
    }

    /** The names {@code openssl s_client} prints of a TLS 1.2 CertificateRequest's certificate_authorities. */
    private String acceptableClientCaNames() {
        Openssl.Result r = Openssl.run(dir, "s_client", "-connect", "127.0.0.1:" + tls.port(), "-CAfile", "root.pem",
                "-tls1_2");
        String out = r.output();
        int from = out.indexOf("Acceptable client certificate CA names");
        int to = out.indexOf("Client Certificate Types", from);
        assertThat(from).as(r.toString()).isNotNegative();
        assertThat(to).as(r.toString()).isPositive();
        return out.substring(from, to);
    }

    private void opensslHandshakes(String acmeCn) {
        for (String version : List.of("-tls1_2", "-tls1_3")) {
            Openssl.Result r = Openssl.run(dir, "s_client", "-connect", "127.0.0.1:" + tls.port(), "-CAfile",
                    "root.pem", "-verify_return_error", "-cert", "device.pem", "-key", "device.key", version);
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(r.output()).as(version).contains("Verify return code: 0 (ok)").doesNotContain("mstring")
                    .doesNotContain("Boolean CN");
            if (version.equals("-tls1_2")) { // the CertificateRequest's certificate_authorities, as openssl prints it
                assertThat(r.output()).contains("Acceptable client certificate CA names").contains(acmeCn);
            }
        }
    }

    /** curl is installed where openssl is ({@code .ci/run}); skip visibly without it, fail in CI. */
    private static void assertCurlAvailable() {
        try {
            if (new ProcessBuilder("curl", "--version").redirectErrorStream(true).start().waitFor() == 0) {
                return;
            }
        } catch (java.io.IOException e) {
            // not installed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String reason = "curl is not on the PATH; install it to run the curl handshake";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(reason + " (CI=true)");
        }
        Assumptions.abort(reason);
    }
}
