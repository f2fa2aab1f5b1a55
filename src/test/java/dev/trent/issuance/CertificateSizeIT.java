package dev.trent.issuance;

import static dev.trent.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.TestPropertySource;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * Device certificates within a size budget: with the default settings, a public base URL of 30
 * characters and a 16-character device id, a P-256 device certificate is at most 600 bytes DER
 * and with its intermediate at most 1,200; the short URLs and the whole-id URLs of certificates
 * issued before both resolve; a profile's max-der-bytes refuses before anything is signed; a
 * profile can leave the OCSP and caIssuers URLs out.
 */
@TestPropertySource(properties = {
    "trent.public-base-url=https://pki.fleet.example:8443",
    "trent.profiles.tight.max-der-bytes=400",
    "trent.profiles.bare.ocsp-url=false",
    "trent.profiles.bare.ca-issuers-url=false",
    "trent.profiles.bare.max-der-bytes=600"
})
class CertificateSizeIT extends IntegrationTest {

    private static final String BASE = "https://pki.fleet.example:8443";
    private static final String PEM = "application/pkcs10";

    @Test
    void deviceCertificateWhenDefaultsThenWithinTheByteBudget() throws Exception {
        assertThat(BASE).hasSize(30);
        TrentClient c = client();
        int maxLeaf = 0;
        int maxChain = 0;
        for (int i = 0; i < 20; i++) {
            String device = deviceId("sensor-").substring(0, 16); // "sensor--" + 8 hex: 16 characters
            assertThat(device).hasSize(16);
            TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), PEM,
                    TestCsrs.ecP256(device).der(), "application/json");
            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            JsonNode json = r.json();
            List<X509Certificate> chain = new ArrayList<>();
            chain.addAll(pemCertificates(json.get("chainPem").asText()));
            byte[] leaf = chain.get(0).getEncoded();
            int chainBytes = 0;
            for (X509Certificate cert : chain) {
                chainBytes += cert.getEncoded().length;
            }
            assertThat(chain).hasSize(2); // leaf and intermediate, never the root
            assertThat(json.get("derBytes").asInt()).isEqualTo(leaf.length);
            assertThat(json.get("chainDerBytes").asInt()).isEqualTo(chainBytes);
            maxLeaf = Math.max(maxLeaf, leaf.length);
            maxChain = Math.max(maxChain, chainBytes);
        }
        System.out.printf("P-256 device certificate, 30-character base URL, 16-character device id: leaf at most %d "
                + "bytes, leaf + intermediate at most %d bytes (20 certificates)%n", maxLeaf, maxChain);
        assertThat(maxLeaf).isLessThanOrEqualTo(600);
        assertThat(maxChain).isLessThanOrEqualTo(1200);
    }

    @Test
    void deviceCertificateWhenIssuedThenShortUrlsAndNoCaIssuers() throws Exception {
        TrentClient c = client();
        String device = deviceId("urls");
        X509CertificateHolder leaf = enroll(c, device, "device");
        String issuerId = leaf.getExtension(Extension.authorityKeyIdentifier) == null ? null
                : org.bouncycastle.util.encoders.Hex.toHexString(org.bouncycastle.asn1.x509.AuthorityKeyIdentifier
                        .fromExtensions(leaf.getExtensions()).getKeyIdentifier());
        String shortId = issuerId.substring(0, 8);
        assertThat(crlUrl(leaf)).isEqualTo(BASE + "/crl/" + shortId + ".crl");
        assertThat(aia(leaf)).containsExactly("ocsp " + BASE + "/ocsp");

        // Both the short URL and the whole-id URL of certificates issued before serve the same bytes.
        TrentClient.Response crlShort = c.get("/crl/" + shortId + ".crl", null, null);
        TrentClient.Response crlWhole = c.get("/crl/" + issuerId + ".crl", null, null);
        assertThat(crlShort.status()).isEqualTo(200);
        assertThat(crlWhole.status()).isEqualTo(200);
        assertThat(crlShort.body()).isEqualTo(crlWhole.body());
        TrentClient.Response caShort = c.get("/ca/" + shortId + ".crt", null, null);
        TrentClient.Response caWhole = c.get("/ca/" + issuerId + ".crt", null, null);
        assertThat(caShort.status()).isEqualTo(200);
        assertThat(caShort.body()).isEqualTo(caWhole.body());
        assertThat(new X509CertificateHolder(caShort.body()).getSubject()).isEqualTo(leaf.getIssuer());
        // A prefix that names no issuer, or one shorter than the URLs use, is not found.
        String other = (shortId.charAt(0) == '0' ? "1" : "0") + shortId.substring(1);
        assertProblem(c.get("/crl/" + other + ".crl", null, null), 404, "not-found");
        assertProblem(c.get("/crl/" + shortId.substring(0, 7) + ".crl", null, null), 404, "not-found");
    }

    @Test
    void serverCertificateWhenIssuedThenCarriesEveryStatusPointer() throws Exception {
        TrentClient c = client();
        String device = deviceId("gw");
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "server", List.of(device + ".example.com")), PEM,
                TestCsrs.ecP256(device).der(), "application/pkix-cert");
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        X509CertificateHolder leaf = new X509CertificateHolder(r.body());
        assertThat(aia(leaf)).hasSize(2).first().asString().startsWith("ocsp ");
        assertThat(aia(leaf).get(1)).matches("caIssuers " + java.util.regex.Pattern.quote(BASE) + "/ca/[0-9a-f]{8}\\.crt");
    }

    @Test
    void profileWhenOcspAndCaIssuersLeftOutThenNoAuthorityInfoAccess() throws Exception {
        X509CertificateHolder leaf = enroll(client(), deviceId("bare"), "bare");
        assertThat(leaf.getExtension(Extension.authorityInfoAccess)).isNull();
        assertThat(crlUrl(leaf)).startsWith(BASE + "/crl/");
        assertThat(leaf.getEncoded().length).isLessThanOrEqualTo(600);
    }

    @Test
    void enrollWhenCertificateWouldExceedMaxDerBytesThenRefusedBeforeSigning() {
        TrentClient c = client();
        String device = deviceId("tight");
        String token = c.token(ADMIN_KEY, device, "tight", null);
        TrentClient.Response r = c.enroll(token, PEM, TestCsrs.ecP256(device).der(), null);
        assertProblem(r, 400, "certificate-too-large");
        assertThat(r.json().get("detail").asText()).contains("profile 'tight' allows at most 400")
                .contains("trent.profiles.tight.max-der-bytes");
        // Nothing reserved, nothing signed, the token still unused.
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class, device))
                .isZero();
        assertThat(jdbc.queryForObject("select used_at is null from enrollment_token where device_id = ?",
                Boolean.class, device)).isTrue();
    }

    private static X509CertificateHolder enroll(TrentClient c, String device, String profile) throws Exception {
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, profile, null), PEM,
                TestCsrs.ecP256(device).der(), "application/pkix-cert");
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return new X509CertificateHolder(r.body());
    }

    private static String crlUrl(X509CertificateHolder cert) {
        CRLDistPoint cdp = CRLDistPoint.fromExtensions(cert.getExtensions());
        GeneralName name = GeneralNames.getInstance(cdp.getDistributionPoints()[0].getDistributionPoint().getName())
                .getNames()[0];
        return name.getName().toString();
    }

    private static List<String> aia(X509CertificateHolder cert) {
        AuthorityInformationAccess aia = AuthorityInformationAccess.fromExtensions(cert.getExtensions());
        List<String> out = new ArrayList<>();
        for (AccessDescription d : aia.getAccessDescriptions()) {
            out.add((d.getAccessMethod().equals(AccessDescription.id_ad_ocsp) ? "ocsp " : "caIssuers ")
                    + d.getAccessLocation().getName());
        }
        return out;
    }

    private static List<X509Certificate> pemCertificates(String pem) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        java.security.cert.CertificateFactory f = java.security.cert.CertificateFactory.getInstance("X.509");
        for (java.security.cert.Certificate cert : f.generateCertificates(
                new java.io.ByteArrayInputStream(pem.getBytes(java.nio.charset.StandardCharsets.US_ASCII)))) {
            out.add((X509Certificate) cert);
        }
        return out;
    }
}
