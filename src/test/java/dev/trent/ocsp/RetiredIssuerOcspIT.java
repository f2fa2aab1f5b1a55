package dev.trent.ocsp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
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
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;

import dev.trent.ca.CaCeremony;
import dev.trent.ca.Pkcs11Token;
import dev.trent.pki.KeyIds;
import dev.trent.pki.Pem;
import dev.trent.support.CaCommand;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.SoftHsm;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * A retired issuer whose key is gone keeps its OCSP answers through a persisted delegated
 * responder, on whichever backend the suite runs against (a keystore, or the SoftHSM2 token):
 * Trent is stopped and started again on the same data directory with the old key deleted from
 * its container (or with the CA switched by configuration to another one), and asked about the
 * old issuer's certificates with Bouncy Castle and {@code openssl ocsp}. Time is moved with the
 * application's Clock bean, not waited for.
 */
@Tag(IntegrationTest.BOTH_BACKENDS)
@ExtendWith(OutputCaptureExtension.class)
class RetiredIssuerOcspIT {

    /** The Clock of every application these tests start; moved by the tests. */
    static final MovableClock CLOCK = new MovableClock();

    /** Makes {@link #CLOCK} the application's Clock. */
    @Configuration(proxyBeanMethods = false)
    static class MovedTime {
        @Bean
        @Primary
        Clock movableClock() {
            return CLOCK;
        }
    }

    /** The system clock plus an offset that a test moves forward. */
    static final class MovableClock extends Clock {
        private volatile Duration offset = Duration.ZERO;

        void reset() {
            offset = Duration.ZERO;
        }

        void moveTo(Instant t) {
            offset = Duration.between(Instant.now(), t);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return Instant.now().plus(offset);
        }
    }

    @TempDir
    Path dataDir;

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() {
        Assumptions.assumeTrue(System.getenv("SPRING_DATASOURCE_URL") == null,
                "SPRING_DATASOURCE_URL is set: these restarts need Trent's embedded PostgreSQL in a fresh data directory");
        if (IntegrationTest.pkcs11Run()) {
            SoftHsm.assumeAvailable();
        }
        CLOCK.reset();
    }

    @Test
    void rotateThenRestartWithoutTheOldKeyThenPersistedResponderAnswersGoodAndRevoked(CapturedOutput output)
            throws Exception {
        Openssl.assumeAvailable();
        String oldLabel = IntegrationTest.pkcs11Run() ? prepareKey(suiteRoot(), SoftHsm.tokens().suite().rootPem())
                : null;
        X509Certificate oldIssuer;
        X509Certificate good;
        X509Certificate toRevoke;
        X509Certificate longest;
        String newLabel;
        BigInteger finalCrlNumber;
        try (TrentApp first = start(oldLabel)) {
            TrentClient client = first.client();
            oldIssuer = chain(client).get(0);
            good = enroll(client);
            toRevoke = enroll(client);
            longest = enroll(client);
            Path rootPem = dir.resolve("root.pem");
            List<X509Certificate> chain = chain(client);
            Files.writeString(rootPem, Pem.certificates(List.of(chain.get(chain.size() - 1))));
            newLabel = prepareKey(IntegrationTest.pkcs11Run() ? suiteRoot() : dataDir.resolve("ca/root.p12"), rootPem);

            TrentClient.Response rotated = client.postJson("/api/v1/issuers/rotate", IntegrationTest.ADMIN_KEY,
                    Map.of("keyLabel", newLabel));
            assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
            assertThat(rotated.json().get("previous").asText()).isEqualTo(id(oldIssuer));

            // Before its key goes: a responder lasting until the retired issuer's last certificate
            // expires, and a final CRL as long.
            Timestamp responderUntil = first.jdbc().queryForObject("select max(not_after) from ocsp_responder "
                    + "where issuer_id = ?", Timestamp.class, id(oldIssuer));
            assertThat(responderUntil.toInstant()).isAfterOrEqualTo(longest.getNotAfter().toInstant())
                    .isBeforeOrEqualTo(oldIssuer.getNotAfter().toInstant());
            X509CRL finalCrl = awaitFinalCrl(client, oldIssuer, longest.getNotAfter().toInstant());
            finalCrlNumber = crlNumber(finalCrl);
            // The responder keys are sealed: no row holds an EC private key in the clear (the SEC1
            // ECPrivateKey inside PKCS#8 begins 30 77 02 01 01), and the sealing key is owner-only.
            assertThat(first.jdbc().queryForObject("select count(*) from ocsp_responder where issuer_id = ?",
                    Long.class, id(oldIssuer))).isPositive();
            assertThat(first.jdbc().queryForObject("select count(*) from ocsp_responder where "
                    + "position('\\x3077020101'::bytea in key_sealed) > 0", Long.class)).isZero();
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
                    dataDir.resolve("ocsp-responder-seal.key")))).isEqualTo("rw-------");
        }
        deleteKey(oldLabel == null ? CaCeremony.ALIAS : oldLabel);

        try (TrentApp second = start(newLabel)) {
            TrentClient client = second.client();
            assertThat(id(chain(client).get(0))).isNotEqualTo(id(oldIssuer));
            String persistedSerial = second.jdbc().queryForObject("select serial from ocsp_responder where issuer_id = ? "
                    + "order by not_after desc limit 1", String.class, id(oldIssuer));

            BasicOCSPResp answer = ocsp(client, oldIssuer, good.getSerialNumber());
            assertThat(answer.getResponses()[0].getCertStatus()).as("good").isNull();
            X509CertificateHolder responder = answer.getCerts()[0];
            assertThat(responder.getSerialNumber().toString(16)).as("signed by the persisted responder")
                    .isEqualTo(persistedSerial);
            assertThat(responder.getNotAfter().toInstant()).isAfterOrEqualTo(longest.getNotAfter().toInstant());
            assertThat(output.getOut()).contains("Retired issuer key(s) missing").contains(id(oldIssuer));

            Files.writeString(dir.resolve("old-issuer.pem"), Pem.certificates(List.of(oldIssuer)));
            List<X509Certificate> oldChain = new ArrayList<>(List.of(oldIssuer));
            oldChain.add(chain(client).get(chain(client).size() - 1));
            Files.writeString(dir.resolve("old-chain.pem"), Pem.certificates(oldChain));
            Files.writeString(dir.resolve("good.pem"), Pem.certificates(List.of(good)));
            Files.writeString(dir.resolve("revoked.pem"), Pem.certificates(List.of(toRevoke)));
            String url = client.base() + "/ocsp";
            Openssl.Result viaOpenssl = Openssl.run(dir, "ocsp", "-issuer", "old-issuer.pem", "-cert", "good.pem",
                    "-url", url, "-CAfile", "old-chain.pem");
            assertThat(viaOpenssl.output()).as(viaOpenssl.toString()).contains("Response verify OK")
                    .contains("good.pem: good");

            // Revoked after the rotation and after the key left: answered revoked at once.
            TrentClient.Response revoked = client.postJson("/api/v1/certificates/"
                    + toRevoke.getSerialNumber().toString(16) + "/revoke", IntegrationTest.ADMIN_KEY,
                    Map.of("reason", "keyCompromise"));
            assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);
            assertThat(ocsp(client, oldIssuer, toRevoke.getSerialNumber()).getResponses()[0].getCertStatus())
                    .isInstanceOf(RevokedStatus.class);
            Openssl.Result revokedViaOpenssl = Openssl.run(dir, "ocsp", "-issuer", "old-issuer.pem", "-cert",
                    "revoked.pem", "-url", url, "-CAfile", "old-chain.pem");
            assertThat(revokedViaOpenssl.output()).as(revokedViaOpenssl.toString()).contains("Response verify OK")
                    .contains("revoked.pem: revoked").contains("Reason: keyCompromise");

            // The final CRL signed before the key left is what is served, valid as long as the certificates.
            X509CRL served = crl(client, oldIssuer);
            assertThat(crlNumber(served)).isEqualTo(finalCrlNumber);
            assertThat(served.getNextUpdate().toInstant()).isAfter(CLOCK.instant());

            JsonNode health = health(client).get("components").get("ocspResponders");
            assertThat(health.get("status").asText()).isEqualTo("UP");
            JsonNode old = health.get("details").get("issuers").get(id(oldIssuer));
            assertThat(old.get("keyLoaded").asBoolean()).isFalse();
            assertThat(old.get("status").asText()).isEqualTo("answering");
            assertThat(Instant.parse(old.get("responderNotAfter").asText()))
                    .isAfterOrEqualTo(longest.getNotAfter().toInstant());
        }
    }

    @Test
    void caSwitchedByConfigurationThenRollingResponderAnswersUntilItExpiresThenUnauthorized(CapturedOutput output)
            throws Exception {
        Openssl.assumeAvailable();
        String oldLabel = IntegrationTest.pkcs11Run() ? prepareKey(suiteRoot(), SoftHsm.tokens().suite().rootPem())
                : null;
        X509Certificate oldIssuer;
        X509Certificate cert;
        Instant responderNotAfter;
        try (TrentApp first = start(oldLabel)) {
            TrentClient client = first.client();
            oldIssuer = chain(client).get(0);
            cert = enroll(client);
            BasicOCSPResp answer = ocsp(client, oldIssuer, cert.getSerialNumber());
            responderNotAfter = answer.getCerts()[0].getNotAfter().toInstant();
            assertThat(responderNotAfter).as("the ordinary short-lived responder")
                    .isBefore(cert.getNotAfter().toInstant());
        }
        // Another CA by configuration, without a rotation: the old key is not in the new container.
        Path other = dir.resolve("other-ca");
        CaCommand.run("init", "--out", other.toString());
        Map<String, String> s = settings();
        s.put("trent.ca.signer", "keystore");
        s.put("trent.ca.keystore.path", other.resolve("intermediate.p12").toString());
        s.put("trent.ca.keystore.password-file", other.resolve("intermediate.p12.pass").toString());

        try (TrentApp second = TrentApp.start(s, MovedTime.class)) {
            TrentClient client = second.client();
            BasicOCSPResp answer = ocsp(client, oldIssuer, cert.getSerialNumber());
            assertThat(answer.getResponses()[0].getCertStatus()).isNull();
            assertThat(answer.getCerts()[0].getNotAfter().toInstant()).isEqualTo(responderNotAfter);

            CLOCK.moveTo(responderNotAfter.plus(Duration.ofHours(1)));
            byte[] request = new OCSPReqBuilder().addRequest(certId(oldIssuer, cert.getSerialNumber())).build()
                    .getEncoded();
            for (int i = 0; i < 2; i++) {
                TrentClient.Response r = client.send("POST", "/ocsp", Map.of("Content-Type",
                        "application/ocsp-request"), request);
                assertThat(r.status()).isEqualTo(200);
                assertThat(new OCSPResp(r.body()).getStatus()).as("RFC 6960 2.3 unauthorized")
                        .isEqualTo(OCSPResp.UNAUTHORIZED);
            }
            Files.writeString(dir.resolve("old-issuer.pem"), Pem.certificates(List.of(oldIssuer)));
            Files.writeString(dir.resolve("cert.pem"), Pem.certificates(List.of(cert)));
            Openssl.Result viaOpenssl = Openssl.run(dir, "ocsp", "-issuer", "old-issuer.pem", "-cert", "cert.pem",
                    "-url", client.base() + "/ocsp", "-no_nonce");
            assertThat(viaOpenssl.output()).as(viaOpenssl.toString()).contains("unauthorized");

            String line = "OCSP answers 'unauthorized' for issuer " + id(oldIssuer);
            assertThat(output.getOut().split(java.util.regex.Pattern.quote(line), -1)).as("logged once")
                    .hasSize(2);
            JsonNode health = health(client).get("components").get("ocspResponders");
            assertThat(health.get("status").asText()).isEqualTo("DOWN");
            assertThat(health.get("details").get("issuers").get(id(oldIssuer)).get("status").asText())
                    .isEqualTo("unauthorized");
        }
    }

    private TrentApp start(String keyLabel) {
        Map<String, String> s = settings();
        if (IntegrationTest.pkcs11Run()) {
            s.putAll(SoftHsm.tokens().suite().settings());
            s.put("trent.ca.pkcs11.key-label", keyLabel);
        } else if (keyLabel != null) {
            s.put("trent.ca.keystore.path", dataDir.resolve("ca/intermediate.p12").toString());
            s.put("trent.ca.keystore.password-file", dataDir.resolve("ca/intermediate.p12.pass").toString());
            s.put("trent.ca.keystore.alias", keyLabel);
        }
        return TrentApp.start(s, MovedTime.class);
    }

    private Map<String, String> settings() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("trent.data-dir", dataDir.toString());
        s.put("trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY);
        return s;
    }

    private static Path suiteRoot() {
        return SoftHsm.tokens().suite().chainPem().resolveSibling("root.p12");
    }

    private List<String> container() {
        if (IntegrationTest.pkcs11Run()) {
            SoftHsm.Token t = SoftHsm.tokens().suite();
            return List.of("--pkcs11-library", t.library().toString(), "--token-label", t.label(), "--pin-file",
                    t.pinFile().toString());
        }
        return List.of("--keystore", dataDir.resolve("ca/intermediate.p12").toString());
    }

    /** A new issuer key in the container, signed by {@code root} and imported with its chain: the ceremony. */
    private String prepareKey(Path root, Path rootPem) throws Exception {
        String label = "retire-" + UUID.randomUUID().toString().substring(0, 8);
        Path out = Files.createDirectories(dir.resolve(label));
        List<String> args = new ArrayList<>(List.of("csr", "--out", out.toString(), "--subject",
                "CN=Issuing CA " + label + ",O=Trent", "--key-label", label));
        args.addAll(container());
        CaCommand.run(args);
        CaCommand.run("sign", "--root-keystore", root.toString(), "--root-password-file", root + ".pass", "--csr",
                out.resolve("intermediate.csr").toString(), "--out", out.resolve(label + ".pem").toString());
        args = new ArrayList<>(List.of("import", "--cert", out.resolve(label + ".pem").toString(), "--chain",
                rootPem.toString(), "--key-label", label));
        args.addAll(container());
        CaCommand.run(args);
        return label;
    }

    /** Deletes the key (and its certificate) from the container: the retired issuer's key is gone. */
    private void deleteKey(String label) throws Exception {
        if (IntegrationTest.pkcs11Run()) {
            SoftHsm.Token t = SoftHsm.tokens().suite();
            KeyStore ks = new Pkcs11Token(t.library(), null, t.label(), () -> t.pin().toCharArray()).freshKeyStore();
            ks.deleteEntry(label);
            assertThat(ks.containsAlias(label)).isFalse();
            return;
        }
        Path file = dataDir.resolve("ca/intermediate.p12");
        char[] password = Files.readString(dataDir.resolve("ca/intermediate.p12.pass"), StandardCharsets.UTF_8).strip()
                .toCharArray();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(file)) {
            ks.load(in, password);
        }
        ks.deleteEntry(label);
        try (OutputStream out = Files.newOutputStream(file)) {
            ks.store(out, password);
        }
    }

    private static X509Certificate enroll(TrentClient client) {
        TrentClient.Response r = client.enroll(client.token(IntegrationTest.ADMIN_KEY,
                "retired-" + UUID.randomUUID().toString().substring(0, 8), "device", null), "application/pkcs10",
                TestCsrs.ecP256("x").der(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.certificates().get(0);
    }

    private static List<X509Certificate> chain(TrentClient client) {
        return client.get("/api/v1/ca/chain", null, null).certificates();
    }

    private static String id(X509Certificate issuer) {
        return HexFormat.of().formatHex(KeyIds.subjectKeyId(issuer));
    }

    private static CertificateID certId(X509Certificate issuer, BigInteger serial) throws Exception {
        return new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(CertificateID.HASH_SHA1),
                new X509CertificateHolder(issuer.getEncoded()), serial);
    }

    /** A successful answer, its signature verified with the responder's certificate, which the issuer signed. */
    private static BasicOCSPResp ocsp(TrentClient client, X509Certificate issuer, BigInteger serial) throws Exception {
        byte[] request = new OCSPReqBuilder().addRequest(certId(issuer, serial)).build().getEncoded();
        TrentClient.Response r = client.send("POST", "/ocsp", Map.of("Content-Type", "application/ocsp-request"),
                request);
        assertThat(r.status()).isEqualTo(200);
        OCSPResp resp = new OCSPResp(r.body());
        assertThat(resp.getStatus()).as("OCSP response status").isEqualTo(OCSPResp.SUCCESSFUL);
        BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
        X509CertificateHolder responder = basic.getCerts()[0];
        assertThat(basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(responder))).isTrue();
        assertThat(responder.isSignatureValid(new JcaContentVerifierProviderBuilder().build(issuer)))
                .as("the responder is delegated by the issuer of the certificate asked about").isTrue();
        assertThat(basic.getResponses()[0].getCertID().getSerialNumber()).isEqualTo(serial);
        return basic;
    }

    private static X509CRL crl(TrentClient client, X509Certificate issuer) throws Exception {
        TrentClient.Response r = client.get("/crl/" + id(issuer) + ".crl", null, null);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(r.body()));
        crl.verify(issuer.getPublicKey());
        return crl;
    }

    /** The retired issuer's final CRL: made at the rotation, or at the next tick if another generation was under way. */
    private static X509CRL awaitFinalCrl(TrentClient client, X509Certificate issuer, Instant until) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            X509CRL crl = crl(client, issuer);
            if (!crl.getNextUpdate().toInstant().isBefore(until)) {
                return crl;
            }
            assertThat(System.nanoTime()).as("a CRL of %s valid until %s within 20 s (last: nextUpdate %s)",
                    id(issuer), until, crl.getNextUpdate().toInstant()).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static BigInteger crlNumber(X509CRL crl) {
        byte[] ext = crl.getExtensionValue(org.bouncycastle.asn1.x509.Extension.cRLNumber.getId());
        return org.bouncycastle.asn1.ASN1Integer.getInstance(
                org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets()).getValue();
    }

    private static JsonNode health(TrentClient client) {
        TrentClient.Response r = client.get("/actuator/health", IntegrationTest.ADMIN_KEY, "application/json");
        assertThat(r.status()).as(r.toString()).isIn(200, 503);
        return r.json();
    }
}
