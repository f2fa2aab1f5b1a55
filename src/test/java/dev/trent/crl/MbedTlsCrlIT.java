package dev.trent.crl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.trent.ca.CaCeremony;
import dev.trent.pki.Pem;
import dev.trent.profile.KeyType;
import dev.trent.support.IntegrationTest;
import dev.trent.support.MbedTls;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/**
 * mbedTLS itself (the library in ESP-IDF and MicroPython devices; here Debian's libmbedtls-dev)
 * loads Trent's CRL and checks a chain with it: the root as trust anchor, the intermediate, the
 * leaf, and the CRL fetched over HTTP from the URL in the leaf's cRLDistributionPoints. Trent
 * listens on a port chosen up front and names it in its public base URL, so the URL in the
 * certificate is the one fetched, as a device would.
 */
class MbedTlsCrlIT extends IntegrationTest {

    private static final int HTTP_PORT = freePort();

    @DynamicPropertySource
    static void publicBaseUrlIsThisServer(DynamicPropertyRegistry registry) {
        registry.add("server.port", () -> HTTP_PORT);
        registry.add("trent.public-base-url", () -> "http://127.0.0.1:" + HTTP_PORT);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void mbedTlsAvailable() {
        MbedTls.assumeAvailable();
    }

    private X509Certificate enroll(String device) {
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.certificates().get(0);
    }

    /** The CRL at {@code url}, fetched over HTTP as a device would, DER. */
    private byte[] fetch(URI url) throws Exception {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(url).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as("GET %s", url).isEqualTo(200);
        return r.body();
    }

    private static X509CRL parse(byte[] der) throws Exception {
        return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
    }

    /** Polls the CRL until it satisfies the condition (the batch delay is about 2 s). */
    private byte[] awaitCrl(URI url, Predicate<X509CRL> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        byte[] der = fetch(url);
        while (!condition.test(parse(der))) {
            assertThat(System.nanoTime()).as("the CRL at %s did not list the revocation within 20 s", url)
                    .isLessThan(deadline);
            Thread.sleep(200);
            der = fetch(url);
        }
        return der;
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private Path writePem(String name, X509Certificate cert) throws IOException {
        return Files.writeString(dir.resolve(name), Pem.certificates(List.of(cert)));
    }

    @Test
    void mbedTlsWhenChainCheckedWithCrlFromCdpThenGoodAcceptedAndRevokedRefusedAsRevoked() throws Exception {
        X509Certificate good = enroll(deviceId("mbed-good"));
        X509Certificate bad = enroll(deviceId("mbed-bad"));
        List<X509Certificate> chain = client().get("/api/v1/ca/chain", null, null).certificates();
        Path root = writePem("root.pem", chain.get(chain.size() - 1));
        Path intermediate = writePem("intermediate.pem", chain.get(0));
        Path goodPem = writePem("good.pem", good);
        Path badPem = writePem("bad.pem", bad);
        URI url = CrlIT.cdpUrl(bad);
        assertThat(url.getAuthority()).isEqualTo("127.0.0.1:" + HTTP_PORT);
        assertThat(CrlIT.cdpUrl(good)).isEqualTo(url);

        Path before = write("before.crl", fetch(url));
        MbedTls.Result goodBefore = MbedTls.verify(dir, root, intermediate, goodPem, before);
        MbedTls.Result badBefore = MbedTls.verify(dir, root, intermediate, badPem, before);

        assertThat(goodBefore.crlParse()).as("mbedtls_x509_crl_parse: %s", goodBefore).isZero();
        assertThat(goodBefore.verify()).as("%s", goodBefore).isZero();
        assertThat(goodBefore.flags()).as("%s", goodBefore).isZero();
        assertThat(badBefore.verify()).as("not yet revoked: %s", badBefore).isZero();
        assertThat(badBefore.flags()).as("%s", badBefore).isZero();

        TrentClient.Response revoked = client().postJson("/api/v1/certificates/" + bad.getSerialNumber().toString(16)
                + "/revoke", ADMIN_KEY, Map.of("reason", "keyCompromise"));
        assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
        Path after = write("after.crl", awaitCrl(url, c -> c.isRevoked(bad)));
        Path afterPem = Files.writeString(dir.resolve("after.crl.pem"), Pem.encode("X509 CRL", Files.readAllBytes(after)));
        MbedTls.Result goodAfter = MbedTls.verify(dir, root, intermediate, goodPem, after);
        MbedTls.Result badAfter = MbedTls.verify(dir, root, intermediate, badPem, after);
        MbedTls.Result badAfterPem = MbedTls.verify(dir, root, intermediate, badPem, afterPem);

        System.out.printf("mbedTLS %s on the revoked certificate: flags 0x%08x%n%s%n", badAfter.version(),
                badAfter.flags(), badAfter.run().output());
        assertThat(goodAfter.crlParse()).as("%s", goodAfter).isZero();
        assertThat(goodAfter.verify()).as("%s", goodAfter).isZero();
        assertThat(goodAfter.flags()).as("%s", goodAfter).isZero();
        assertThat(badAfter.crlParse()).as("%s", badAfter).isZero();
        assertThat(badAfter.verify()).as("%s", badAfter).isNotZero();
        assertThat(badAfter.revokedBit()).isEqualTo(0x02L);
        assertThat(badAfter.flags() & badAfter.revokedBit()).as("MBEDTLS_X509_BADCERT_REVOKED in %s", badAfter)
                .isEqualTo(badAfter.revokedBit());
        assertThat(badAfterPem.crlParse()).as("the PEM form: %s", badAfterPem).isZero();
        assertThat(badAfterPem.flags() & badAfterPem.revokedBit()).as("%s", badAfterPem)
                .isEqualTo(badAfterPem.revokedBit());
    }

    /**
     * The control: a CRL with the critical issuingDistributionPoint that Trent's CRLs carried
     * before is refused by mbedtls_x509_crl_parse (-0x2562, "X509 - The extension tag or value
     * is invalid : ASN1 - ASN1 tag was of an unexpected value"), so the test above would catch it
     * coming back.
     */
    @Test
    void mbedTlsWhenCrlCarriesCriticalIdpThenParseFailsWithInvalidExtensions() throws Exception {
        CaCeremony.Hierarchy ca = new CaCeremony(new SecureRandom(), Clock.systemUTC())
                .createHierarchy(KeyType.EC_P256, "Control", Duration.ofDays(30), Duration.ofDays(10));
        X509Certificate intermediate = ca.intermediate().chain().get(0);
        Instant now = Instant.now();
        X509v2CRLBuilder b = new X509v2CRLBuilder(new JcaX509CertificateHolder(intermediate).getSubject(),
                Date.from(now));
        b.setNextUpdate(Date.from(now.plus(Duration.ofDays(1))));
        b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.ONE));
        b.addExtension(Extension.issuingDistributionPoint, true, new IssuingDistributionPoint(
                new DistributionPointName(new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
                        "http://127.0.0.1/crl/control.crl"))), true, false, null, false, false));
        byte[] crl = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(ca.intermediate().privateKey()))
                .getEncoded();

        MbedTls.Result r = MbedTls.verify(dir, writePem("control-root.pem", ca.root().chain().get(0)),
                writePem("control-int.pem", intermediate), writePem("control-leaf.pem", intermediate),
                write("control.crl", crl));

        assertThat(r.crlParse()).as("%s", r).isEqualTo(-0x2562);
    }
}
