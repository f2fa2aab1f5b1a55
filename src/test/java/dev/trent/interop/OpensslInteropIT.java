package dev.trent.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXCertPathValidatorResult;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TrentClient;

/**
 * Certificates from Trent checked by clients nobody here wrote: the {@code openssl} command
 * line tool (key and CSR generation, strict chain verification with purpose and hostname
 * checks) and the JDK's own PKIX validator. Without openssl the tests skip with a reason, and
 * fail in CI.
 */
class OpensslInteropIT extends IntegrationTest {

    private static final String CHAIN = "application/pem-certificate-chain";

    @TempDir
    Path dir;

    @BeforeEach
    void requireOpenssl() {
        Openssl.assumeAvailable();
    }

    /** What enrollment of an openssl-made CSR wrote into {@link #dir}. */
    private record Enrolled(String deviceId, Path leafPem, Path chainPem, Path rootPem, X509Certificate leaf,
            X509Certificate intermediate, X509Certificate root, Instant requestedAt, Instant answeredAt) {
    }

    /**
     * Makes a P-256 key and CSR with openssl, enrolls it under {@code profile} and writes
     * {@code leaf.pem}, {@code chain.pem} (the intermediate, as the server sent it after the
     * leaf) and {@code root.pem} (from {@code /api/v1/ca/root}).
     */
    private Enrolled enrollOpensslCsr(String profile, List<String> dnsNames) throws IOException {
        Openssl.ok(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", "/CN=x", "-keyout", "key.pem", "-out", "req.pem");
        TrentClient client = client();
        String device = deviceId("ossl-" + profile);
        String token = client.token(ADMIN_KEY, device, profile, dnsNames);

        Instant requestedAt = Instant.now();
        TrentClient.Response r = client.enroll(token, "application/x-pem-file",
                Files.readAllBytes(dir.resolve("req.pem")), null);
        Instant answeredAt = Instant.now();

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        assertThat(r.contentType()).startsWith(CHAIN);
        List<X509Certificate> chain = r.certificates();
        assertThat(chain).as("leaf and intermediate, no root").hasSize(2);
        Files.writeString(dir.resolve("leaf.pem"), Pem.certificate(chain.get(0)), StandardCharsets.US_ASCII);
        Files.writeString(dir.resolve("chain.pem"), Pem.certificates(chain.subList(1, chain.size())),
                StandardCharsets.US_ASCII);

        TrentClient.Response root = client.get("/api/v1/ca/root", null, null);
        assertThat(root.status()).as(root.toString()).isEqualTo(200);
        assertThat(root.certificates()).hasSize(1);
        Files.write(dir.resolve("root.pem"), root.body());

        return new Enrolled(device, dir.resolve("leaf.pem"), dir.resolve("chain.pem"), dir.resolve("root.pem"), chain.get(0),
                chain.get(1), root.certificates().get(0), requestedAt, answeredAt);
    }

    private Openssl.Result verify(String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("verify", "-x509_strict"));
        args.addAll(List.of(extra));
        args.addAll(List.of("-CAfile", "root.pem", "-untrusted", "chain.pem", "leaf.pem"));
        return Openssl.run(dir, args.toArray(String[]::new));
    }

    // ---- (a) openssl-made CSR, device profile, strict client verification --------------------

    @Test
    void enrollWhenOpensslP256CsrForDeviceThenOpensslVerifiesStrictlyAsClient() throws IOException {
        enrollOpensslCsr("device", null);

        Openssl.Result r = verify("-purpose", "sslclient");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.output()).as(r.toString()).contains("leaf.pem: OK");
    }

    // ---- (b) server profile: hostname checks ----------------------------------------------------

    @Test
    void enrollWhenServerProfileWithDnsNameThenOpensslVerifiesThatHostnameOnly() throws IOException {
        enrollOpensslCsr("server", List.of("gw1.example.test"));

        Openssl.Result good = verify("-purpose", "sslserver", "-verify_hostname", "gw1.example.test");
        Openssl.Result wrongHost = verify("-purpose", "sslserver", "-verify_hostname", "gw2.example.test");

        assertThat(good.exitCode()).as(good.toString()).isZero();
        assertThat(good.output()).as(good.toString()).contains("leaf.pem: OK");
        assertThat(wrongHost.exitCode()).as(wrongHost.toString()).isNotZero();
        assertThat(wrongHost.output()).as(wrongHost.toString()).contains("hostname mismatch")
                .doesNotContain("leaf.pem: OK");
    }

    // ---- (c) EKU: a device certificate is not a TLS server certificate ---------------------------

    @Test
    void verifyWhenDeviceCertificateCheckedAsServerThenOpensslRejectsPurpose() throws IOException {
        enrollOpensslCsr("device", null);

        Openssl.Result r = verify("-purpose", "sslserver");

        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        // X509_V_ERR_INVALID_PURPOSE (26) at depth 0: the leaf's EKU is clientAuth only. OpenSSL
        // 3 words it "unsuitable", 1.1 "unsupported" certificate purpose; the code is stable.
        assertThat(r.output()).as(r.toString()).containsPattern("error 26 at 0 depth lookup: \\w+ certificate purpose")
                .doesNotContain("leaf.pem: OK");
    }

    // ---- (d) the JDK's PKIX validator --------------------------------------------------------------

    @Test
    void validateWhenJdkPkixWithRootAnchorThenLeafAndIntermediateValidate() throws Exception {
        Enrolled e = enrollOpensslCsr("device", null);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        CertPath path = cf.generateCertPath(List.of(e.leaf(), e.intermediate()));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(e.root(), null)));
        // Revocation checking is off for now: Trent serves no CRL or OCSP yet (a later issue adds
        // both, and then this test turns revocation on).
        params.setRevocationEnabled(false);

        PKIXCertPathValidatorResult result = (PKIXCertPathValidatorResult) CertPathValidator.getInstance("PKIX")
                .validate(path, params);

        assertThat(result.getTrustAnchor().getTrustedCert()).isEqualTo(e.root());
        assertThat(result.getPublicKey()).isEqualTo(e.leaf().getPublicKey());
    }

    @Test
    void validateWhenJdkPkixWithForeignRootThenRejected() throws Exception {
        Enrolled e = enrollOpensslCsr("device", null);
        Openssl.ok(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-subj", "/CN=Foreign Root", "-days", "1", "-keyout", "foreign.key", "-out", "foreign.pem");
        X509Certificate foreign = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(Files.newInputStream(dir.resolve("foreign.pem")));
        CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(List.of(e.leaf(), e.intermediate()));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(foreign, null)));
        params.setRevocationEnabled(false); // see above: no CRL/OCSP yet

        assertThatThrownBy(() -> CertPathValidator.getInstance("PKIX").validate(path, params))
                .isInstanceOf(CertPathValidatorException.class);
    }

    // ---- (e) certificate content --------------------------------------------------------------------

    @Test
    void enrollWhenDeviceThenCertificateHasProfileContent() throws Exception {
        Enrolled e = enrollOpensslCsr("device", null);
        X509Certificate leaf = e.leaf();
        X509CertificateHolder holder = new X509CertificateHolder(leaf.getEncoded());
        byte[] intermediateSki = ski(e.intermediate());
        String issuerId = HexFormat.of().formatHex(intermediateSki);

        assertThat(leaf.getVersion()).as("X.509 v3").isEqualTo(3);
        assertThat(leaf.getIssuerX500Principal()).isEqualTo(e.intermediate().getSubjectX500Principal());
        assertThat(leaf.getSubjectX500Principal().getName()).isEqualTo("CN=" + e.deviceId());

        // Serial: 16 random bytes read as a positive integer, at most 17 octets in DER.
        BigInteger serial = leaf.getSerialNumber();
        assertThat(serial.signum()).isPositive();
        assertThat(serial.bitLength()).as("at most 16 bytes of randomness").isLessThanOrEqualTo(128)
                .as("a run of 64 leading zero bits is not a random 16-byte serial").isGreaterThan(64);
        byte[] serialContent = new ASN1Integer(serial).getEncoded();
        assertThat(serialContent.length - 2).as("DER content octets of the serial").isLessThanOrEqualTo(17);

        // Backdated by the configured 5 minutes from the (second-truncated) moment of issuance.
        Instant notBefore = leaf.getNotBefore().toInstant();
        assertThat(notBefore).isBetween(e.requestedAt().truncatedTo(ChronoUnit.SECONDS).minus(Duration.ofMinutes(5)),
                e.answeredAt().minus(Duration.ofMinutes(5)));

        // basicConstraints CA:false, critical.
        assertThat(leaf.getCriticalExtensionOIDs()).contains(Extension.basicConstraints.getId(),
                Extension.keyUsage.getId());
        assertThat(leaf.getExtensionValue(Extension.basicConstraints.getId())).isNotNull();
        assertThat(leaf.getBasicConstraints()).as("not a CA").isEqualTo(-1);

        // Key usage: digitalSignature only (EC key), critical.
        boolean[] ku = leaf.getKeyUsage();
        assertThat(ku).isNotNull();
        assertThat(ku[0]).as("digitalSignature").isTrue();
        for (int i = 1; i < ku.length; i++) {
            assertThat(ku[i]).as("key usage bit " + i).isFalse();
        }
        assertThat(leaf.getExtendedKeyUsage()).containsExactly(KeyPurposeId.id_kp_clientAuth.getId());

        // SKI present; AKI is the intermediate's SKI.
        assertThat(leaf.getNonCriticalExtensionOIDs()).contains(Extension.subjectKeyIdentifier.getId(),
                Extension.authorityKeyIdentifier.getId(), Extension.cRLDistributionPoints.getId(),
                Extension.authorityInfoAccess.getId());
        assertThat(ski(leaf)).isNotEmpty();
        AuthorityKeyIdentifier aki = AuthorityKeyIdentifier.fromExtensions(holder.getExtensions());
        assertThat(aki.getKeyIdentifierOctets()).isEqualTo(intermediateSki);

        // CRL distribution point and AIA (OCSP, caIssuers), under the configured public base URL.
        CRLDistPoint cdp = CRLDistPoint.fromExtensions(holder.getExtensions());
        assertThat(cdp.getDistributionPoints()).hasSize(1);
        DistributionPointName dpn = cdp.getDistributionPoints()[0].getDistributionPoint();
        assertThat(dpn.getType()).isEqualTo(DistributionPointName.FULL_NAME);
        // The URLs name the issuer by the first 8 hex digits of its id (its SKI); the device
        // profile leaves caIssuers out (a device sends its intermediate itself).
        String urlId = issuerId.substring(0, 8);
        assertThat(uris(GeneralNames.getInstance(dpn.getName())))
                .containsExactly("http://localhost:8080/crl/" + urlId + ".crl");
        AuthorityInformationAccess aia = AuthorityInformationAccess.fromExtensions(holder.getExtensions());
        List<String> ocsp = new java.util.ArrayList<>();
        List<String> caIssuers = new java.util.ArrayList<>();
        for (AccessDescription ad : aia.getAccessDescriptions()) {
            assertThat(ad.getAccessLocation().getTagNo()).isEqualTo(GeneralName.uniformResourceIdentifier);
            String uri = ad.getAccessLocation().getName().toString();
            if (ad.getAccessMethod().equals(AccessDescription.id_ad_ocsp)) {
                ocsp.add(uri);
            } else if (ad.getAccessMethod().equals(AccessDescription.id_ad_caIssuers)) {
                caIssuers.add(uri);
            }
        }
        assertThat(ocsp).containsExactly("http://localhost:8080/ocsp");
        assertThat(caIssuers).isEmpty();

        // The caIssuers path (as server certificates carry it) returns the intermediate in DER.
        TrentClient.Response issuer = client().get("/ca/" + urlId + ".crt", null, null);
        assertThat(issuer.status()).as(issuer.toString()).isEqualTo(200);
        assertThat(issuer.contentType()).startsWith("application/pkix-cert");
        assertThat(issuer.body()).as("the intermediate, DER").isEqualTo(e.intermediate().getEncoded());
    }

    @Test
    void enrollWhenDeviceThenOpensslTextShowsCriticalConstraintsAndUrls() throws IOException {
        Enrolled e = enrollOpensslCsr("device", null);
        String issuerId = HexFormat.of().formatHex(ski(e.intermediate()));

        String text = Openssl.ok(dir, "x509", "-in", "leaf.pem", "-noout", "-text").output();

        assertThat(text).contains("Version: 3 (0x2)");
        assertThat(text).containsPattern("X509v3 Basic Constraints: critical\\s+CA:FALSE");
        assertThat(text).containsPattern("X509v3 Key Usage: critical\\s+Digital Signature\\s");
        assertThat(text).containsPattern("X509v3 Extended Key Usage:\\s+TLS Web Client Authentication\\s");
        assertThat(text).contains("X509v3 Subject Key Identifier:", "X509v3 Authority Key Identifier:");
        assertThat(text).contains("URI:http://localhost:8080/crl/" + issuerId.substring(0, 8) + ".crl");
        assertThat(text).contains("OCSP - URI:http://localhost:8080/ocsp");
        assertThat(text).doesNotContain("CA Issuers");
        assertThat(text).as("subject CN is the device id, not the CSR's CN=x").contains("Subject: CN = " + e.deviceId());
    }

    private static byte[] ski(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        assertThat(ext).as("subjectKeyIdentifier of " + cert.getSubjectX500Principal()).isNotNull();
        return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
    }

    private static List<String> uris(GeneralNames names) {
        return java.util.Arrays.stream(names.getNames())
                .peek(n -> assertThat(n.getTagNo()).isEqualTo(GeneralName.uniformResourceIdentifier))
                .map(n -> n.getName().toString())
                .toList();
    }
}
