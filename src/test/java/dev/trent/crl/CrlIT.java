package dev.trent.crl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertStore;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.Extension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.Certtool;
import dev.trent.support.ExternalTool;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/** The CRL at the certificates' CDP URL, kept current after revocations, checked by real clients. */
class CrlIT extends IntegrationTest {

    @TempDir
    Path dir;

    private X509Certificate enroll(String device) throws Exception {
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);
        assertThat(r.status()).isEqualTo(201);
        return r.certificates().get(0);
    }

    private void revoke(X509Certificate cert, String reason, String invalidityDate) {
        Map<String, Object> body = invalidityDate == null ? Map.of("reason", reason)
                : Map.of("reason", reason, "invalidityDate", invalidityDate);
        TrentClient.Response r = client().postJson("/api/v1/certificates/" + cert.getSerialNumber().toString(16)
                + "/revoke", ADMIN_KEY, body);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }

    /** The CDP URL as written in the certificate (its first URI). */
    static java.net.URI cdpUrl(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue(Extension.cRLDistributionPoints.getId());
        CRLDistPoint cdp = CRLDistPoint.getInstance(ASN1OctetString.getInstance(ext).getOctets());
        for (org.bouncycastle.asn1.x509.DistributionPoint dp : cdp.getDistributionPoints()) {
            for (org.bouncycastle.asn1.x509.GeneralName name : org.bouncycastle.asn1.x509.GeneralNames
                    .getInstance(dp.getDistributionPoint().getName()).getNames()) {
                if (name.getTagNo() == org.bouncycastle.asn1.x509.GeneralName.uniformResourceIdentifier) {
                    return java.net.URI.create(name.getName().toString());
                }
            }
        }
        throw new AssertionError("no URI in the cRLDistributionPoints of " + cert.getSubjectX500Principal());
    }

    /**
     * The path (and query) of the CDP URL written in the certificate, to fetch from this test's
     * server (the certificates name the default public base URL, http://localhost:8080).
     */
    static String cdpPath(X509Certificate cert) {
        java.net.URI url = cdpUrl(cert);
        return url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
    }

    private X509CRL fetch(String path) throws Exception {
        TrentClient.Response r = client().get(path, null, null);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("application/pkix-crl");
        return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(r.body()));
    }

    /** Polls the CRL until it satisfies the condition (a new CRL follows a revocation within seconds). */
    private X509CRL awaitCrl(String path, Predicate<X509CRL> condition) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        X509CRL crl = fetch(path);
        while (!condition.test(crl)) {
            assertThat(System.nanoTime()).as("CRL did not reach the expected state in 20 s").isLessThan(deadline);
            Thread.sleep(200);
            crl = fetch(path);
        }
        return crl;
    }

    private static BigInteger crlNumber(X509CRL crl) {
        byte[] ext = crl.getExtensionValue(Extension.cRLNumber.getId());
        return org.bouncycastle.asn1.ASN1Integer.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getValue();
    }

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    @Test
    void crlWhenFetchedAtCdpUrlThenSignedV2FullCrlWithoutCriticalExtensionAndDayLong() throws Exception {
        X509Certificate leaf = enroll(deviceId("crl"));
        X509Certificate intermediate = chain().get(0);

        X509CRL crl = fetch(cdpPath(leaf));

        crl.verify(intermediate.getPublicKey());
        assertThat(crl.getVersion()).isEqualTo(2);
        assertThat(crl.getIssuerX500Principal()).isEqualTo(intermediate.getSubjectX500Principal());
        assertThat(Duration.between(crl.getThisUpdate().toInstant(), crl.getNextUpdate().toInstant()))
                .isEqualTo(Duration.ofHours(24));
        // A full CRL (RFC 5280 5.2.5): no issuingDistributionPoint, and no critical extension that
        // mbedTLS would refuse; AKI and cRLNumber only.
        assertThat(crl.getExtensionValue(Extension.issuingDistributionPoint.getId())).isNull();
        assertThat(crl.getCriticalExtensionOIDs()).isNullOrEmpty();
        assertThat(crl.getNonCriticalExtensionOIDs())
                .containsExactlyInAnyOrder(Extension.authorityKeyIdentifier.getId(), Extension.cRLNumber.getId());
        assertThat(crl.getRevokedCertificate(leaf)).isNull();
    }

    @Test
    void crlWhenCertificatesRevokedOrReleasedThenNextCrlFollowsWithinSeconds() throws Exception {
        X509Certificate compromised = enroll(deviceId("crl-kc"));
        X509Certificate unspecified = enroll(deviceId("crl-un"));
        X509Certificate held = enroll(deviceId("crl-hold"));
        String path = cdpPath(compromised);
        BigInteger before = crlNumber(fetch(path));

        revoke(compromised, "keyCompromise", "2026-11-01T00:00:00Z");
        revoke(unspecified, "unspecified", null);
        revoke(held, "certificateHold", null);
        X509CRL crl = awaitCrl(path, c -> c.isRevoked(compromised) && c.isRevoked(unspecified) && c.isRevoked(held));

        assertThat(crlNumber(crl)).isGreaterThan(before);
        X509CRLEntry kc = crl.getRevokedCertificate(compromised);
        assertThat(kc.getRevocationReason()).isEqualTo(java.security.cert.CRLReason.KEY_COMPROMISE);
        byte[] inv = kc.getExtensionValue(Extension.invalidityDate.getId());
        assertThat(org.bouncycastle.asn1.ASN1GeneralizedTime.getInstance(ASN1OctetString.getInstance(inv).getOctets())
                .getDate().toInstant()).isEqualTo(Instant.parse("2026-11-01T00:00:00Z"));
        assertThat(crl.getRevokedCertificate(unspecified).getRevocationReason()).isNull();
        assertThat(crl.getRevokedCertificate(held).getRevocationReason())
                .isEqualTo(java.security.cert.CRLReason.CERTIFICATE_HOLD);

        client().postJson("/api/v1/certificates/" + held.getSerialNumber().toString(16) + "/unhold", ADMIN_KEY,
                Map.of());
        X509CRL after = awaitCrl(path, c -> !c.isRevoked(held));

        assertThat(after.isRevoked(compromised)).isTrue();
        assertThat(crlNumber(after)).isGreaterThan(crlNumber(crl));
    }

    @Test
    void crlWhenConditionalOrPemRequestedThen304OrPem() throws Exception {
        String path = cdpPath(enroll(deviceId("crl-http")));
        TrentClient.Response der = client().get(path, null, null);
        String etag = der.header("ETag");

        TrentClient.Response again = client().send("GET", path, Map.of("If-None-Match", etag), null);
        TrentClient.Response inList = client().send("GET", path, Map.of("If-None-Match", "\"other\", W/" + etag),
                null);
        TrentClient.Response sinceNow = client().send("GET", path, Map.of("If-Modified-Since",
                der.header("Last-Modified")), null);
        TrentClient.Response otherEtag = client().send("GET", path, Map.of("If-None-Match", "\"other\""), null);
        TrentClient.Response pem = client().get(path, null, "application/x-pem-file");
        TrentClient.Response pemWithDerEtag = client().send("GET", path, Map.of("If-None-Match", etag,
                "Accept", "application/x-pem-file"), null);

        assertThat(etag).matches("\"[0-9a-f]{64}\"");
        assertThat(der.header("Last-Modified")).isNotBlank();
        assertThat(der.header("Cache-Control")).contains("public").contains("max-age=");
        long maxAge = Long.parseLong(der.header("Cache-Control").replaceAll(".*max-age=(\\d+).*", "$1"));
        assertThat(maxAge).isBetween(1L, 300L);
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(again.header("ETag")).isEqualTo(etag);
        assertThat(again.header("Last-Modified")).isEqualTo(der.header("Last-Modified"));
        assertThat(again.header("Cache-Control")).contains("public").contains("max-age=");
        // RFC 9110 13.1.2: weak comparison, any member of the list
        assertThat(inList.status()).isEqualTo(304);
        // RFC 9110 13.1.3: If-Modified-Since, when there is no If-None-Match
        assertThat(sinceNow.status()).isEqualTo(304);
        assertThat(otherEtag.status()).isEqualTo(200);
        assertThat(otherEtag.body()).isEqualTo(der.body());
        // The PEM representation has its own ETag.
        assertThat(pem.header("ETag")).isNotEqualTo(etag).matches("\"[0-9a-f]{64}-pem\"");
        assertThat(pemWithDerEtag.status()).isEqualTo(200);
        assertThat(pemWithDerEtag.contentType()).isEqualTo("application/x-pem-file");
        assertThat(pem.contentType()).isEqualTo("application/x-pem-file");
        List<Pem.Block> blocks = Pem.decodeAll(pem.text());
        assertThat(blocks).hasSize(1);
        assertThat(blocks.get(0).label()).isEqualTo("X509 CRL");
        assertThat(client().get("/crl/0000.crl", null, null).status()).isEqualTo(404);
    }

    @Test
    void opensslWhenCrlCheckedThenRevokedLeafFailsAndGoodLeafPasses() throws Exception {
        Openssl.assumeAvailable();
        X509Certificate good = enroll(deviceId("crl-good"));
        X509Certificate bad = enroll(deviceId("crl-bad"));
        String path = cdpPath(bad);
        revoke(bad, "keyCompromise", null);
        X509CRL crl = awaitCrl(path, c -> c.isRevoked(bad));
        List<X509Certificate> chain = chain();
        Files.writeString(dir.resolve("root.pem"), Pem.certificates(List.of(chain.get(1))));
        Files.writeString(dir.resolve("chain.pem"), Pem.certificates(chain));
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(List.of(chain.get(0))));
        Files.writeString(dir.resolve("good.pem"), Pem.certificates(List.of(good)));
        Files.writeString(dir.resolve("bad.pem"), Pem.certificates(List.of(bad)));
        Files.write(dir.resolve("crl.der"), crl.getEncoded());
        Files.writeString(dir.resolve("crl.pem"), Pem.encode("X509 CRL", crl.getEncoded()));

        Openssl.Result crlVerify = Openssl.run(dir, "crl", "-inform", "DER", "-in", "crl.der", "-CAfile",
                "chain.pem", "-noout");
        Openssl.Result goodVerify = Openssl.run(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl.pem",
                "-CAfile", "root.pem", "-untrusted", "int.pem", "good.pem");
        Openssl.Result badVerify = Openssl.run(dir, "verify", "-x509_strict", "-crl_check", "-CRLfile", "crl.pem",
                "-CAfile", "root.pem", "-untrusted", "int.pem", "bad.pem");

        assertThat(crlVerify.exitCode()).as(crlVerify.toString()).isZero();
        assertThat(crlVerify.output()).contains("verify OK");
        assertThat(goodVerify.exitCode()).as(goodVerify.toString()).isZero();
        assertThat(badVerify.exitCode()).as(badVerify.toString()).isNotZero();
        assertThat(badVerify.output()).contains("certificate revoked");
    }

    @Test
    void gnutlsWhenCrlVerifiedWithIntermediateThenVerified() throws Exception {
        Certtool.assumeAvailable();
        X509Certificate bad = enroll(deviceId("gnutls-bad"));
        String path = cdpPath(bad);
        revoke(bad, "cessationOfOperation", null);
        X509CRL crl = awaitCrl(path, c -> c.isRevoked(bad));
        X509Certificate intermediate = chain().get(0);
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(List.of(intermediate)));
        Files.write(dir.resolve("int.der"), intermediate.getEncoded());
        Files.write(dir.resolve("crl.der"), crl.getEncoded());
        Files.writeString(dir.resolve("crl.pem"), Pem.encode("X509 CRL", crl.getEncoded()));

        ExternalTool.Result pem = Certtool.run(dir, "--verify-crl", "--load-ca-certificate", "int.pem",
                "--infile", "crl.pem");
        // --inder applies to the CA certificate too
        ExternalTool.Result der = Certtool.run(dir, "--verify-crl", "--load-ca-certificate", "int.der",
                "--inder", "--infile", "crl.der");

        assertThat(pem.exitCode()).as(pem.toString()).isZero();
        assertThat(pem.output()).as(pem.toString()).contains("Verified");
        assertThat(der.exitCode()).as(der.toString()).isZero();
    }

    @Test
    void javaPkixWhenCrlsOnlyThenRevokedRejectedAndGoodAccepted() throws Exception {
        X509Certificate good = enroll(deviceId("pkix-good"));
        X509Certificate bad = enroll(deviceId("pkix-bad"));
        revoke(bad, "superseded", null);
        X509CRL crl = awaitCrl(cdpPath(bad), c -> c.isRevoked(bad));
        List<X509Certificate> chain = chain();

        validate(good, chain, crl);
        assertThatThrownBy(() -> validate(bad, chain, crl)).isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.REVOKED));
    }

    private static void validate(X509Certificate leaf, List<X509Certificate> chain, X509CRL crl) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        CertPath path = cf.generateCertPath(List.of(leaf, chain.get(0)));
        CertPathValidator validator = CertPathValidator.getInstance("PKIX");
        PKIXRevocationChecker checker = (PKIXRevocationChecker) validator.getRevocationChecker();
        checker.setOptions(EnumSet.of(PKIXRevocationChecker.Option.PREFER_CRLS,
                PKIXRevocationChecker.Option.NO_FALLBACK, PKIXRevocationChecker.Option.ONLY_END_ENTITY));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(chain.get(1), null)));
        params.addCertPathChecker(checker);
        params.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(List.of(crl))));
        validator.validate(path, params);
    }
}
