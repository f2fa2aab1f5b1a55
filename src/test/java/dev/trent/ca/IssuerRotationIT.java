package dev.trent.ca;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import dev.trent.cli.CaCli;
import dev.trent.config.TrentProperties;
import dev.trent.pki.KeyIds;
import dev.trent.support.CaCommand;
import dev.trent.support.IntegrationTest;
import dev.trent.support.SoftHsm;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/**
 * Issuer rotation through the operator API, on whichever backend the suite runs against (a
 * keystore, or the SoftHSM2 token): the next issuer's key is prepared with the same ceremony
 * commands on either, rotation switches new issuance at once, the former issuer keeps answering
 * OCSP and publishing CRLs for what it issued, and the change is audited. Every test leaves the
 * original issuer active (the application context is shared with other test classes).
 */
class IssuerRotationIT extends IntegrationTest {

    @Autowired
    private dev.trent.tls.TlsServer tls;

    @Autowired
    private TrentProperties properties;

    @Autowired
    private IssuerRegistry issuers;

    @TempDir
    Path dir;

    /** The label of the key the context started with, to rotate back to. */
    private String originalLabel() {
        return pkcs11Run() ? properties.ca().pkcs11().keyLabel() : CaCeremony.ALIAS;
    }

    /** Root keystore that signed the suite's intermediate: the embedded CA's, or the token suite's. */
    private Path rootKeystore() {
        return pkcs11Run() ? SoftHsm.tokens().suite().chainPem().resolveSibling("root.p12")
                : properties.dataDir().resolve("ca").resolve("root.p12");
    }

    private List<String> container() {
        if (pkcs11Run()) {
            SoftHsm.Token t = SoftHsm.tokens().suite();
            return List.of("--pkcs11-library", t.library().toString(), "--token-label", t.label(), "--pin-file",
                    t.pinFile().toString());
        }
        return List.of("--keystore", properties.dataDir().resolve("ca").resolve("intermediate.p12").toString());
    }

    /** The next issuer's key in the same container, signed by {@code root} and imported: the ceremony. */
    private String prepareNextKey(Path root, Path rootPem) {
        String label = "next-" + UUID.randomUUID().toString().substring(0, 8);
        List<String> args = new ArrayList<>(List.of("csr", "--out", dir.toString(), "--subject",
                "CN=Next Issuing CA " + label + ",O=Trent", "--key-label", label));
        args.addAll(container());
        cli(args);
        cli(List.of("sign", "--root-keystore", root.toString(), "--root-password-file", root + ".pass", "--csr",
                dir.resolve("intermediate.csr").toString(), "--out", dir.resolve(label + ".pem").toString()));
        args = new ArrayList<>(List.of("import", "--cert", dir.resolve(label + ".pem").toString(), "--chain",
                rootPem.toString(), "--key-label", label));
        args.addAll(container());
        cli(args);
        try {
            Files.delete(dir.resolve("intermediate.csr"));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return label;
    }

    private Path rootPem() throws Exception {
        Path p = dir.resolve("root.pem");
        Files.writeString(p, dev.trent.pki.Pem.certificates(List.of(chain().get(chain().size() - 1))));
        return p;
    }

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    private TrentClient.Response rotate(String label, String apiKey, Boolean allowNewRoot) {
        Map<String, Object> body = allowNewRoot == null ? Map.of("keyLabel", label)
                : Map.of("keyLabel", label, "allowNewRoot", allowNewRoot);
        return client().postJson("/api/v1/issuers/rotate", apiKey, body);
    }

    private X509Certificate enroll() {
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, deviceId("rot"), "device", null), "application/pkcs10",
                TestCsrs.ecP256("x").der(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.certificates().get(0);
    }

    private BasicOCSPResp ocsp(X509Certificate issuer, BigInteger serial) throws Exception {
        CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build()
                .get(CertificateID.HASH_SHA1), new X509CertificateHolder(issuer.getEncoded()), serial);
        byte[] request = new OCSPReqBuilder().addRequest(id).build().getEncoded();
        TrentClient.Response r = client().send("POST", "/ocsp", Map.of("Content-Type", "application/ocsp-request"),
                request);
        assertThat(r.status()).isEqualTo(200);
        OCSPResp resp = new OCSPResp(r.body());
        assertThat(resp.getStatus()).as("OCSP response status").isEqualTo(OCSPResp.SUCCESSFUL);
        BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
        X509CertificateHolder responder = basic.getCerts()[0];
        assertThat(basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(responder))).isTrue();
        assertThat(responder.isSignatureValid(new JcaContentVerifierProviderBuilder().build(issuer)))
                .as("the responder is delegated by the issuer of the certificate asked about").isTrue();
        return basic;
    }

    private X509CRL awaitCrl(String issuerId, BigInteger serial) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            TrentClient.Response r = client().get("/crl/" + issuerId + ".crl", null, null);
            if (r.status() == 200) {
                X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509")
                        .generateCRL(new ByteArrayInputStream(r.body()));
                if (crl.getRevokedCertificate(serial) != null) {
                    return crl;
                }
            }
            assertThat(System.nanoTime()).as("CRL of %s lists %s within 20 s", issuerId, serial.toString(16))
                    .isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @Test
    void rotateThenNewIssuerSignsAtOnceAndFormerKeepsPublishingStatus() throws Exception {
        X509Certificate oldIssuer = chain().get(0);
        String oldId = HexFormat.of().formatHex(KeyIds.subjectKeyId(oldIssuer));
        String label = prepareNextKey(rootKeystore(), rootPem());
        X509Certificate before = enroll();
        try {
            TrentClient.Response rotated = rotate(label, ADMIN_KEY, null);

            assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
            assertThat(rotated.json().get("changed").asBoolean()).isTrue();
            assertThat(rotated.json().get("previous").asText()).isEqualTo(oldId);
            String newId = rotated.json().get("active").get("id").asText();
            X509Certificate newIssuer = chain().get(0);
            assertThat(HexFormat.of().formatHex(KeyIds.subjectKeyId(newIssuer))).as("/ca/chain at once").isEqualTo(newId);
            assertThat(newIssuer.getSubjectX500Principal().getName()).contains(label);

            tls.renewIfDue();
            assertThat(tls.chain().get(1)).as("HTTPS follows a rotation under the same root").isEqualTo(newIssuer);

            X509Certificate after = enroll();
            after.verify(newIssuer.getPublicKey());
            assertThat(after.getIssuerX500Principal()).isEqualTo(newIssuer.getSubjectX500Principal());

            // The former issuer still answers for its certificate, through its own delegated responder.
            assertThat(ocsp(oldIssuer, before.getSerialNumber()).getResponses()[0].getCertStatus()).isNull(); // good
            assertThat(ocsp(newIssuer, after.getSerialNumber()).getResponses()[0].getCertStatus()).isNull();
            TrentClient.Response revoked = client().postJson("/api/v1/certificates/"
                    + before.getSerialNumber().toString(16) + "/revoke", ADMIN_KEY, Map.of("reason", "keyCompromise"));
            assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
            assertThat(ocsp(oldIssuer, before.getSerialNumber()).getResponses()[0].getCertStatus())
                    .isInstanceOf(RevokedStatus.class);
            X509CRL crl = awaitCrl(oldId, before.getSerialNumber());
            crl.verify(oldIssuer.getPublicKey());

            TrentClient.Response list = client().get("/api/v1/issuers", ADMIN_KEY, "application/json");
            assertThat(list.status()).isEqualTo(200);
            Map<String, String> states = new java.util.HashMap<>();
            list.json().get("issuers").forEach(i -> states.put(i.get("id").asText(), i.get("state").asText()
                    + (i.get("publishing").asBoolean() ? "+publishing" : "") + (i.get("keyLoaded").asBoolean()
                            ? "+key" : "")));
            assertThat(states).containsEntry(newId, "ACTIVE+publishing+key").containsEntry(oldId,
                    "RETIRED+publishing+key");
            assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'issuer.activated' "
                    + "and subject = ? and actor like 'api-key:%'", Integer.class, newId)).isEqualTo(1);
        } finally {
            TrentClient.Response back = rotate(originalLabel(), ADMIN_KEY, null);
            assertThat(back.status()).as(back.toString()).isEqualTo(200);
        }
        assertThat(chain().get(0)).isEqualTo(oldIssuer);
        assertThat(issuers.active().id()).isEqualTo(oldId);
    }

    @Test
    void rotateWhenKeyLabelUnknownThen409NamingTheContainer() {
        TrentClient.Response r = rotate("no-such-key", ADMIN_KEY, null);

        assertThat(r.status()).as(r.toString()).isEqualTo(409);
        assertThat(r.json().get("type").asText()).isEqualTo("https://trent.dev/problems/issuer-key-unavailable");
        assertThat(r.json().get("detail").asText()).contains("no-such-key");
    }

    @Test
    void rotateWhenKeyChainsToAnotherRootThen409UnlessAllowed() throws Exception {
        Path otherCa = dir.resolve("other");
        cli(List.of("init", "--out", otherCa.toString(), "--organization", "Other"));
        String label = prepareNextKey(otherCa.resolve("root.p12"), otherCa.resolve("root.pem"));
        String before = issuers.active().id();

        TrentClient.Response refused = rotate(label, ADMIN_KEY, null);

        assertThat(refused.status()).as(refused.toString()).isEqualTo(409);
        assertThat(refused.json().get("type").asText()).isEqualTo("https://trent.dev/problems/issuer-root-differs");
        assertThat(issuers.active().id()).isEqualTo(before);

        X509Certificate otherRoot = CaCeremony.readCertificates(otherCa.resolve("root.pem")).get(0);
        try {
            TrentClient.Response allowed = rotate(label, ADMIN_KEY, true);

            assertThat(allowed.status()).as(allowed.toString()).isEqualTo(200);
            assertThat(client().get("/api/v1/ca/root", null, null).certificates()).containsExactly(otherRoot);
            X509Certificate tlsIssuer = tls.chain().get(1);
            tls.renewIfDue();
            assertThat(tls.chain().get(1)).as("HTTPS keeps the old root's certificate until its normal renewal, "
                    + "so devices can fetch the new root first").isEqualTo(tlsIssuer);
            X509Certificate issued = enroll();
            assertThat(chain()).last().isEqualTo(otherRoot);
            issued.verify(chain().get(0).getPublicKey());
        } finally {
            TrentClient.Response back = rotate(originalLabel(), ADMIN_KEY, true);
            assertThat(back.status()).as(back.toString()).isEqualTo(200);
        }
        assertThat(issuers.active().id()).isEqualTo(before);
    }

    @Test
    void rotateWhenNotAdminThen403AndNothingChanges() {
        TrentClient c = client();
        TrentClient.Response created = c.postJson("/api/v1/api-keys", ADMIN_KEY,
                Map.of("name", deviceId("op"), "role", "OPERATOR"));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        String operatorKey = created.json().get("key").asText();
        String before = issuers.active().id();

        TrentClient.Response r = rotate(originalLabel(), operatorKey, null);

        assertThat(r.status()).isEqualTo(403);
        assertThat(issuers.active().id()).isEqualTo(before);
    }

    @Test
    void cliRotateCallsTheApiAndIsIdempotent() throws Exception {
        Path keyFile = dir.resolve("admin.key");
        Files.writeString(keyFile, ADMIN_KEY + "\n");
        String before = issuers.active().id();

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int rc = CaCli.run(new String[] {"rotate", "--server", "http://127.0.0.1:" + port + "/", "--key-label",
            originalLabel(), "--api-key-file", keyFile.toString()}, new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err);

        assertThat(rc).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).contains("\"changed\":false").contains(before);
        assertThat(issuers.active().id()).isEqualTo(before);
    }

    private static void cli(List<String> args) {
        CaCommand.run(args);
    }
}
