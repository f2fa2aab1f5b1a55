package dev.trent.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.support.CaCommand;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.SoftHsm;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;

/**
 * The CA key in a SoftHSM2 token, for real: start-up faults (module, token, PIN, key) stop
 * Trent with one line naming the cause; a degraded start reports DOWN and answers 503 until the
 * PIN is fixed; a token whose files vanish mid-run fails requests with 503 and loses nothing,
 * and the next request after they are back succeeds without a restart; an intermediate made by
 * keytool and openssl alone works with configuration only; the ceremony CLI works on a token.
 * (The whole integration suite also runs against a token: the pom's pkcs11 execution.)
 */
class Pkcs11IT {

    private static SoftHsm.Tokens tokens;

    @TempDir
    Path dir;

    @BeforeAll
    static void tokens() {
        SoftHsm.assumeAvailable();
        tokens = SoftHsm.tokens();
    }

    /**
     * Every test starts with the module freshly initialized: nobody logged in. (A PKCS#11 login
     * holds for the whole process, and SunPKCS11 skips C_Login when the token is logged in
     * already, so a wrong PIN would go unnoticed after an earlier test's login. Trent itself has
     * one signer per process and re-initializes before every reconnect.)
     */
    @org.junit.jupiter.api.BeforeEach
    void freshModule() {
        SoftHsm.Token t = tokens.faults();
        assertThat(new Pkcs11Token(t.library(), null, t.label(), () -> t.pin().toCharArray()).reinitialize())
                .as("module re-initialized").isTrue();
    }

    private Map<String, String> settings(SoftHsm.Token token) {
        Map<String, String> s = new HashMap<>(token.settings());
        s.put("trent.data-dir", dir.resolve("data").toString());
        s.put("trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY);
        s.put("trent.ca.pkcs11.reconnect-interval", "100ms");
        return s;
    }

    private static String startFailure(Map<String, String> settings) {
        Throwable failure = catchThrowable(() -> TrentApp.start(settings).close());
        assertThat(failure).as("start-up must fail").isNotNull();
        Throwable t = failure;
        while (t != null && !(t instanceof CaUnavailableException)) {
            t = t.getCause();
        }
        assertThat(t).as("a CaUnavailableException in " + TrentApp.messages(failure)).isNotNull();
        String line = new CaUnavailableFailureAnalyzer().analyze(failure).getDescription();
        assertThat(line).as("one line").doesNotContain("\n").startsWith("Trent cannot use its CA key: ");
        return line;
    }

    @Test
    void startWhenModuleMissingThenFailsNamingTheModule() {
        Map<String, String> s = settings(tokens.faults());
        s.put("trent.ca.pkcs11.library", dir.resolve("no-such-module.so").toString());

        assertThat(startFailure(s)).contains("PKCS#11 module " + dir.resolve("no-such-module.so")
                + " does not exist or cannot be read");
    }

    @Test
    void startWhenTokenAbsentThenFailsNamingTheTokensPresent() {
        Map<String, String> s = settings(tokens.faults());
        s.put("trent.ca.pkcs11.token-label", "no-such-token");

        assertThat(startFailure(s)).contains("no token labelled 'no-such-token'").contains("'trent-faults'");
    }

    @Test
    void startWhenPinWrongThenFailsSayingSoWithoutThePin() throws Exception {
        Path wrong = dir.resolve("wrong.pin");
        Files.writeString(wrong, "0000-wrong\n");
        Map<String, String> s = settings(tokens.faults());
        s.put("trent.ca.pkcs11.pin-file", wrong.toString());

        String line = startFailure(s);

        assertThat(line).contains("cannot log in to token 'trent-faults'").contains("the PIN is wrong")
                .doesNotContain("0000-wrong").doesNotContain(tokens.faults().pin());
    }

    @Test
    void startWhenKeyLabelUnknownThenFailsListingTheKeys() {
        Map<String, String> s = settings(tokens.faults());
        s.put("trent.ca.pkcs11.key-label", "no-such-key");

        assertThat(startFailure(s)).contains("no private key labelled 'no-such-key'").contains("[trent-ca]");
    }

    @Test
    void startWhenPinGivenUnderAnotherSpellingThenRefusedToo() {
        Map<String, String> s = settings(tokens.faults());
        s.remove("trent.ca.pkcs11.pin-file");
        s.put("TRENT.CA.PKCS11.PIN", tokens.faults().pin()); // relaxed binding accepts it; the check must too

        assertThat(startFailure(s)).contains("may come only from the environment variable TRENT_CA_PKCS11_PIN");
    }

    @Test
    void sessionInvalidatedUnderTheSignerThenTheSameRequestSucceedsOnAFreshSession() throws Exception {
        SoftHsm.Token t = tokens.faults();
        try (TrentApp app = TrentApp.start(settings(t))) {
            TrentClient c = app.client();
            byte[] csr = TestCsrs.ecP256("x").der();
            String first = c.token(IntegrationTest.ADMIN_KEY, "stale-1-" + System.nanoTime(), "device", null);
            assertThat(c.enroll(first, "application/pkcs10", csr, null).status()).isEqualTo(201);

            // As if the HSM restarted: the module forgets every session and login of this process.
            assertThat(new Pkcs11Token(t.library(), null, t.label(), () -> t.pin().toCharArray()).reinitialize())
                    .isTrue();
            String second = c.token(IntegrationTest.ADMIN_KEY, "stale-2-" + System.nanoTime(), "device", null);
            TrentClient.Response r = c.enroll(second, "application/pkcs10", csr, null);

            assertThat(r.status()).as("retried once on a fresh session: " + r).isEqualTo(201);
            assertThat(c.get("/actuator/health", null, null).status()).isEqualTo(200);
        }
    }

    @Test
    void startWhenPinOnCommandLineThenRefused() {
        Map<String, String> s = settings(tokens.faults());
        s.remove("trent.ca.pkcs11.pin-file");
        s.put("trent.ca.pkcs11.pin", tokens.faults().pin()); // TrentApp passes settings as command-line arguments

        String line = startFailure(s);

        assertThat(line).contains("may come only from the environment variable TRENT_CA_PKCS11_PIN")
                .doesNotContain(tokens.faults().pin());
    }

    @Test
    void degradedStartReportsDownAnswers503AndRecoversOnceThePinIsFixed() throws Exception {
        Path pinFile = dir.resolve("pin");
        Files.writeString(pinFile, "wrong-pin\n");
        Map<String, String> s = settings(tokens.faults());
        s.put("trent.ca.pkcs11.pin-file", pinFile.toString());
        s.put("trent.ca.start-degraded", "true");
        s.put("trent.ca.chain-file", tokens.faults().chainPem().toString());

        try (TrentApp app = TrentApp.start(s)) {
            TrentClient c = app.client();
            String device = "degraded-" + System.nanoTime();
            String token = c.token(IntegrationTest.ADMIN_KEY, device, "device", null);
            byte[] csr = TestCsrs.ecP256("x").der();

            TrentClient.Response health = c.get("/actuator/health", null, null);
            TrentClient.Response readiness = c.get("/actuator/health/readiness", null, null);
            TrentClient.Response liveness = c.get("/actuator/health/liveness", null, null);
            TrentClient.Response refused = c.enroll(token, "application/pkcs10", csr, null);
            TrentClient.Response chain = c.get("/api/v1/ca/chain", null, null);

            assertThat(health.status()).as(health.toString()).isEqualTo(503);
            assertThat(health.json().get("status").asText()).isEqualTo("DOWN");
            assertThat(readiness.status()).isEqualTo(503);
            assertThat(liveness.status()).as("alive, only not ready").isEqualTo(200);
            assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
            assertThat(refused.json().get("type").asText()).isEqualTo("https://trent.dev/problems/signer-unavailable");
            assertThat(refused.text()).doesNotContain("wrong-pin");
            assertThat(chain.certificates()).containsExactlyElementsOf(CaCeremony.readCertificates(
                    tokens.faults().chainPem()));
            assertThat(app.jdbc().queryForObject("select count(*) from enrollment_token where device_id = ? "
                    + "and used_at is null", Integer.class, device)).isEqualTo(1);

            Files.writeString(pinFile, tokens.faults().pin() + "\n");

            // No request needed: the signer reconnects in the background and readiness comes back.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (c.get("/actuator/health/readiness", null, null).status() != 200) {
                assertThat(System.nanoTime()).as("readiness UP within 10 s of the PIN fix").isLessThan(deadline);
                Thread.sleep(100);
            }
            TrentClient.Response issued = c.enroll(token, "application/pkcs10", csr, null);

            assertThat(issued.status()).as(issued.toString()).isEqualTo(201);
            assertThat(c.get("/actuator/health", null, null).status()).isEqualTo(200);
        }
    }

    @Test
    void tokenFilesGoneMidRunThen503NothingLostAndRecoveryWithoutRestart() throws Exception {
        SoftHsm.Token t = tokens.faults();
        Path away = dir.resolve("token-away");
        Map<String, String> settings = settings(t);
        settings.put("trent.ca.pkcs11.reconnect-interval", "1h"); // reached by moving the clock
        dev.trent.support.MovableClock clock = new dev.trent.support.MovableClock();
        try (TrentApp app = TrentApp.start(settings, clock)) {
            TrentClient c = app.client();
            byte[] csr = TestCsrs.ecP256("x").der();
            String before = c.token(IntegrationTest.ADMIN_KEY, "hsm-ok-" + System.nanoTime(), "device", null);
            assertThat(c.enroll(before, "application/pkcs10", csr, null).status()).isEqualTo(201);

            String device = "hsm-fault-" + System.nanoTime();
            String token = c.token(IntegrationTest.ADMIN_KEY, device, "device", null);
            TrentClient.Response failed;
            TrentClient.Response healthDuring;
            Files.move(t.directory(), away);
            try {
                failed = c.enroll(token, "application/pkcs10", csr, null);
                healthDuring = c.get("/actuator/health", null, null);
            } finally {
                Files.move(away, t.directory());
            }

            assertThat(failed.status()).as(failed.toString()).isEqualTo(503);
            assertThat(failed.json().get("type").asText()).isEqualTo("https://trent.dev/problems/signer-unavailable");
            assertThat(healthDuring.status()).isEqualTo(503);
            // Nothing issued: no row, or (when the token failed at the signature itself, after the
            // reservation committed) one ABANDONED row without DER that accounts for the attempt.
            assertThat(app.jdbc().queryForList("select status from certificate where device_id = ? and "
                    + "(status <> 'ABANDONED' or der is not null)", String.class, device))
                    .as("no certificate issued or pending").isEmpty();
            assertThat(app.jdbc().queryForObject("select count(*) from certificate where device_id = ?",
                    Integer.class, device)).as("at most the abandoned reservation").isLessThanOrEqualTo(1);
            assertThat(app.jdbc().queryForObject("select count(*) from enrollment_token where device_id = ? "
                    + "and used_at is null", Integer.class, device)).as("token unused").isEqualTo(1);

            TrentClient.Response early = c.enroll(token, "application/pkcs10", csr, null);
            assertThat(early.status()).as("within the reconnect interval: fails fast, " + early).isEqualTo(503);
            clock.advance(Duration.ofHours(1)); // the reconnect interval has passed
            TrentClient.Response retried = c.enroll(token, "application/pkcs10", csr, null);

            assertThat(retried.status()).as(retried.toString()).isEqualTo(201);
            assertThat(retried.certificates().get(1)).isEqualTo(CaCeremony.readCertificates(t.chainPem()).get(0));
            assertThat(c.get("/actuator/health", null, null).status()).isEqualTo(200);
        }
    }

    @Test
    void intermediateMadeByKeytoolAndOpensslWorksWithConfigurationAlone() throws Exception {
        Openssl.assumeAvailable();
        SoftHsm.Token t = tokens.keytool();
        Path cfg = dir.resolve("sunpkcs11.cfg");
        Files.writeString(cfg, "name = keytool\nlibrary = " + t.library() + "\nslot = " + slotOf(t) + "\n"
                + "attributes(generate, CKO_PRIVATE_KEY, *) = {\n  CKA_TOKEN = true\n  CKA_SENSITIVE = true\n"
                + "  CKA_EXTRACTABLE = false\n}\nattributes(generate, CKO_PUBLIC_KEY, *) = {\n  CKA_TOKEN = true\n}\n");
        List<String> keytool = List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-keystore", "NONE", "-storetype", "PKCS11", "-providerClass", "sun.security.pkcs11.SunPKCS11",
                "-providerArg", cfg.toString(), "-storepass", t.pin());
        SoftHsm.run(concat(keytool, "-genkeypair", "-alias", "ext-ca", "-keyalg", "EC", "-groupname", "secp256r1",
                "-sigalg", "SHA256withECDSA", "-dname", "CN=Keytool Intermediate,O=Ext"));
        SoftHsm.run(concat(keytool, "-certreq", "-alias", "ext-ca", "-file", dir.resolve("int.csr").toString()));
        Openssl.ok(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "root.key", "-out", "root.pem", "-subj", "/O=Ext/CN=Ext Offline Root", "-days", "3650",
                "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        Files.writeString(dir.resolve("ext.cnf"), "basicConstraints=critical,CA:true,pathlen:0\n"
                + "keyUsage=critical,keyCertSign,cRLSign,digitalSignature\nsubjectKeyIdentifier=hash\n"
                + "authorityKeyIdentifier=keyid\n");
        Openssl.ok(dir, "x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
                "-out", "int.pem", "-days", "365", "-extfile", "ext.cnf");
        Files.writeString(dir.resolve("reply.pem"), Files.readString(dir.resolve("int.pem"))
                + Files.readString(dir.resolve("root.pem")));
        SoftHsm.run(concat(keytool, "-importcert", "-alias", "ext-ca", "-file", dir.resolve("reply.pem").toString(),
                "-noprompt"));

        Map<String, String> s = settings(t);
        s.put("trent.ca.pkcs11.key-label", "ext-ca");
        X509Certificate root = CaCeremony.readCertificates(dir.resolve("root.pem")).get(0);
        try (TrentApp app = TrentApp.start(s)) {
            TrentClient c = app.client();
            String token = c.token(IntegrationTest.ADMIN_KEY, "keytool-" + System.nanoTime(), "device", null);
            TrentClient.Response r = c.enroll(token, "application/pkcs10", TestCsrs.ecP256("x").der(), null);

            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            assertThat(c.get("/api/v1/ca/root", null, null).certificates()).containsExactly(root);
            Files.writeString(dir.resolve("leaf.pem"), dev.trent.pki.Pem.certificates(r.certificates().subList(0, 1)));
            Openssl.ok(dir, "verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "leaf.pem");
        }
    }

    @Test
    void ceremonyOnTokenGeneratesUnextractableKeyThenImportsChainSignedByOfflineRoot() throws Exception {
        SoftHsm.Token t = tokens.keytool();
        Path rootKeystore = tokens.suite().chainPem().resolveSibling("root.p12");
        List<String> token = List.of("--pkcs11-library", t.library().toString(), "--token-label", t.label(),
                "--pin-file", t.pinFile().toString(), "--key-label", "cli-ca");

        cli(concat(List.of("csr", "--out", dir.toString(), "--subject", "CN=Ceremony Issuing CA,O=Test",
                "--key-algorithm", "EC_P384"), token.toArray(String[]::new)));
        cli("sign", "--root-keystore", rootKeystore.toString(), "--root-password-file", rootKeystore + ".pass",
                "--csr", dir.resolve("intermediate.csr").toString(), "--out", dir.resolve("int.pem").toString());
        cli(concat(List.of("import", "--cert", dir.resolve("int.pem").toString(), "--chain",
                tokens.suite().rootPem().toString()), token.toArray(String[]::new)));
        String listing = cli(concat(List.of("list"), token.toArray(String[]::new)));

        assertThat(listing).contains("'cli-ca' (key)").contains("CN=Ceremony Issuing CA, O=Test")
                .contains("CN=Trent Root CA");
        Pkcs11Token.Session session = new Pkcs11Token(t.library(), null, t.label(),
                () -> t.pin().toCharArray()).open();
        KeyStore ks = session.keyStore();
        assertThat(ks.getCertificateChain("cli-ca")).hasSize(2);
        assertThat(ks.getKey("cli-ca", null).getEncoded()).as("the key's value never leaves the token").isNull();
        assertThat(ks.getKey("cli-ca", null).toString()).contains("token object").contains("sensitive")
                .contains("unextractable");

        Map<String, String> s = settings(t);
        s.put("trent.ca.pkcs11.key-label", "cli-ca");
        try (TrentApp app = TrentApp.start(s)) {
            TrentClient c = app.client();
            String enrollToken = c.token(IntegrationTest.ADMIN_KEY, "ceremony-" + System.nanoTime(), "device", null);
            TrentClient.Response r = c.enroll(enrollToken, "application/pkcs10", TestCsrs.ecP256("x").der(), null);

            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            assertThat(r.certificates().get(0).getSigAlgName()).isEqualTo("SHA384withECDSA");
        }
    }

    private static String cli(List<String> args) {
        return CaCommand.run(args);
    }

    private static String cli(String... args) {
        return CaCommand.run(args);
    }

    private static List<String> concat(List<String> head, String... tail) {
        List<String> all = new java.util.ArrayList<>(head);
        all.addAll(List.of(tail));
        return all;
    }

    /** The slot id SoftHSM gave the token (keytool's SunPKCS11 configuration names slots by id). */
    private static String slotOf(SoftHsm.Token t) {
        String slots = SoftHsm.run(List.of("softhsm2-util", "--show-slots"));
        String current = null;
        for (String line : slots.split("\n")) {
            if (line.startsWith("Slot ")) {
                current = line.substring(5).strip();
            } else if (line.strip().startsWith("Label:") && line.strip().substring(6).strip().equals(t.label())) {
                return current;
            }
        }
        throw new IllegalStateException("no slot for token " + t.label() + " in\n" + slots);
    }
}
