package dev.trent.crl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.IssuingDistributionPoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.test.context.TestPropertySource;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.MbedTls;
import dev.trent.support.Openssl;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/**
 * {@code trent.crl.issuing-distribution-point=true}, for relying parties that want an IDP (EMQX's
 * documentation says its CRL check does): the CRL then carries a critical IDP with
 * onlyContainsUserCerts naming both URLs the issuer's certificates carry (the short one, and
 * the whole-id one of certificates issued before URLs were shortened); OpenSSL, which matches
 * the IDP against the certificate's CDP, still accepts the good and refuses the revoked; and
 * mbedTLS refuses the CRL, which is why this is off by default.
 */
@TestPropertySource(properties = "trent.crl.issuing-distribution-point=true")
class CrlIssuingDistributionPointIT extends IntegrationTest {

    @TempDir
    Path dir;

    @Test
    void crlWhenIdpAskedForThenCriticalNamingBothUrlsAndOpensslFollowsIt() throws Exception {
        Openssl.assumeAvailable();
        TrentClient c = client();
        X509Certificate good = enroll(c, deviceId("idp-good"));
        X509Certificate bad = enroll(c, deviceId("idp-bad"));
        TrentClient.Response revoked = c.postJson("/api/v1/certificates/" + bad.getSerialNumber().toString(16)
                + "/revoke", ADMIN_KEY, Map.of("reason", "keyCompromise"));
        assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
        X509CRL crl = awaitRevoked(c, CrlIT.cdpPath(bad), bad);

        assertThat(crl.getCriticalExtensionOIDs()).containsExactly(Extension.issuingDistributionPoint.getId());
        IssuingDistributionPoint idp = IssuingDistributionPoint.getInstance(ASN1OctetString.getInstance(
                crl.getExtensionValue(Extension.issuingDistributionPoint.getId())).getOctets());
        assertThat(idp.onlyContainsUserCerts()).isTrue();
        List<String> names = new ArrayList<>();
        for (GeneralName n : GeneralNames.getInstance(idp.getDistributionPoint().getName()).getNames()) {
            names.add(n.getName().toString());
        }
        List<X509Certificate> chain = c.get("/api/v1/ca/chain", null, null).certificates();
        String issuerId = org.bouncycastle.util.encoders.Hex.toHexString(
                dev.trent.pki.KeyIds.subjectKeyId(chain.get(0)));
        assertThat(names).containsExactly(CrlIT.cdpUrl(bad).toString(),
                "http://localhost:8080/crl/" + issuerId + ".crl");

        Files.writeString(dir.resolve("root.pem"), Pem.certificates(List.of(chain.get(1))));
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(List.of(chain.get(0))));
        Files.writeString(dir.resolve("good.pem"), Pem.certificates(List.of(good)));
        Files.writeString(dir.resolve("bad.pem"), Pem.certificates(List.of(bad)));
        Files.writeString(dir.resolve("crl.pem"), Pem.encode("X509 CRL", crl.getEncoded()));
        Openssl.Result goodVerify = Openssl.run(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl.pem",
                "-CAfile", "root.pem", "-untrusted", "int.pem", "good.pem");
        Openssl.Result badVerify = Openssl.run(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl.pem",
                "-CAfile", "root.pem", "-untrusted", "int.pem", "bad.pem");
        assertThat(goodVerify.exitCode()).as(goodVerify.toString()).isZero();
        assertThat(badVerify.exitCode()).as(badVerify.toString()).isNotZero();
        assertThat(badVerify.output()).contains("certificate revoked");

        // The price: mbedTLS cannot load a CRL with a critical extension at all.
        MbedTls.assumeAvailable();
        MbedTls.Result mbedtls = MbedTls.verify(dir, dir.resolve("root.pem"), dir.resolve("int.pem"),
                dir.resolve("good.pem"), dir.resolve("crl.pem"));
        assertThat(mbedtls.crlParse()).as(mbedtls.toString()).isEqualTo(-0x2562);
    }

    private static X509Certificate enroll(TrentClient c, String device) {
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.certificates().get(0);
    }

    private static X509CRL awaitRevoked(TrentClient c, String path, X509Certificate cert) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            TrentClient.Response r = c.get(path, null, null);
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509")
                    .generateCRL(new ByteArrayInputStream(r.body()));
            if (crl.isRevoked(cert)) {
                return crl;
            }
            assertThat(System.nanoTime()).as("the CRL did not list the revocation within 20 s").isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
