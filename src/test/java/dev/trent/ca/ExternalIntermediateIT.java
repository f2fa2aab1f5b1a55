package dev.trent.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.cli.CaCli;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;

/**
 * An operator-supplied intermediate: made offline with {@code ca init}, given to the server
 * through {@code trent.ca.keystore.*}. Trent must issue under it, create no CA of its own, and
 * refuse to start on a keystore it cannot use, saying why.
 */
class ExternalIntermediateIT {

    @TempDir
    Path ceremonyDir;

    @TempDir
    Path dataDir;

    private Path caDir;

    @BeforeEach
    void runCeremony() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("TRENT_CA_KEYSTORE_PASSWORD") == null,
                "TRENT_CA_KEYSTORE_PASSWORD is set; 'ca init' would write no password files");
        caDir = ceremonyDir.resolve("offline");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = CaCli.run(new String[] {"init", "--out", caDir.toString(), "--organization", "Acme Fleet"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(exit).as(err.toString(StandardCharsets.UTF_8)).isZero();
    }

    private Map<String, String> settings(Path keystore, Path passwordFile) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("trent.data-dir", dataDir.toString());
        s.put("trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY);
        s.put("trent.ca.keystore.path", keystore.toString());
        s.put("trent.ca.keystore.password-file", passwordFile.toString());
        return s;
    }

    @Test
    void enrollWhenCliIntermediateConfiguredThenChainEndsAtCliRoot() throws Exception {
        X509Certificate cliRoot = CaCeremony.readCertificates(caDir.resolve("root.pem")).get(0);
        X509Certificate cliIntermediate = CaCeremony.readCertificates(caDir.resolve("chain.pem")).get(0);

        try (TrentApp app = TrentApp.start(settings(caDir.resolve("intermediate.p12"),
                caDir.resolve("intermediate.p12.pass")))) {
            TrentClient client = app.client();
            String token = client.token(IntegrationTest.ADMIN_KEY, "ext-device-1", "device", null);
            TrentClient.Response r = client.enroll(token, "application/x-pem-file",
                    TestCsrs.ecP256("ignored").pem().getBytes(StandardCharsets.US_ASCII), null);
            TrentClient.Response root = client.get("/api/v1/ca/root", null, null);
            TrentClient.Response chain = client.get("/api/v1/ca/chain", null, null);

            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            List<X509Certificate> issued = r.certificates();
            assertThat(issued).hasSize(2);
            assertThat(issued.get(1)).as("the CLI's intermediate").isEqualTo(cliIntermediate);
            issued.get(0).verify(cliIntermediate.getPublicKey());
            assertThat(root.certificates()).containsExactly(cliRoot);
            assertThat(chain.certificates()).containsExactly(cliIntermediate, cliRoot);

            PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(cliRoot, null)));
            params.setRevocationEnabled(false); // CRL and OCSP come in a later issue
            CertPathValidator.getInstance("PKIX").validate(
                    CertificateFactory.getInstance("X.509").generateCertPath(issued), params);
        }
        assertThat(dataDir.resolve("ca")).as("Trent made no CA of its own").doesNotExist();
    }

    @Test
    void startWhenKeystorePasswordWrongThenFailsNamingKeystoreAndPassword() throws Exception {
        Path wrong = ceremonyDir.resolve("wrong.pass");
        Files.writeString(wrong, "not-the-password\n");
        Path keystore = caDir.resolve("intermediate.p12");

        Throwable failure = catchThrowable(() -> TrentApp.start(settings(keystore, wrong)).close());

        assertThat(failure).as("startup must fail").isNotNull();
        assertThat(TrentApp.messages(failure)).contains("cannot read keystore " + keystore + ": the password is wrong");
        assertThat(dataDir.resolve("ca")).doesNotExist();
    }

    @Test
    void startWhenKeystoreChainLacksRootThenFailsSayingChainIsIncomplete() throws Exception {
        Path keystore = intermediateWithoutRoot();

        Throwable failure = catchThrowable(() -> TrentApp.start(
                settings(keystore, caDir.resolve("intermediate.p12.pass"))).close());

        assertThat(failure).as("startup must fail").isNotNull();
        assertThat(TrentApp.messages(failure)).contains("the chain is incomplete")
                .contains("must end at the self-signed root");
        assertThat(dataDir.resolve("ca")).doesNotExist();
    }

    @Test
    void enrollWhenKeystoreLacksRootButChainFileHasItThenIssuesUnderThatRoot() throws Exception {
        Path keystore = intermediateWithoutRoot();
        X509Certificate cliRoot = CaCeremony.readCertificates(caDir.resolve("root.pem")).get(0);
        Map<String, String> s = settings(keystore, caDir.resolve("intermediate.p12.pass"));
        s.put("trent.ca.chain-file", caDir.resolve("root.pem").toString());

        try (TrentApp app = TrentApp.start(s)) {
            TrentClient client = app.client();
            String token = client.token(IntegrationTest.ADMIN_KEY, "ext-device-2", "device", null);
            TrentClient.Response r = client.enroll(token, "application/pkcs10", TestCsrs.ecP256("x").der(), null);

            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            assertThat(client.get("/api/v1/ca/root", null, null).certificates()).containsExactly(cliRoot);
            assertThat(r.certificates().get(1).getIssuerX500Principal()).isEqualTo(cliRoot.getSubjectX500Principal());
        }
    }

    /** The CLI's intermediate key and certificate in a new keystore, without the root. */
    private Path intermediateWithoutRoot() throws Exception {
        char[] password = Files.readString(caDir.resolve("intermediate.p12.pass")).strip().toCharArray();
        CaCeremony.KeyAndChain full = CaCeremony.readKeystore(caDir.resolve("intermediate.p12"), password, null);
        Path keystore = ceremonyDir.resolve("no-root.p12");
        CaCeremony.writeKeystore(keystore, new CaCeremony.KeyAndChain(full.privateKey(),
                List.of(full.certificate())), password);
        assertThat(CaCeremony.readKeystore(keystore, password, null).chain()).hasSize(1);
        return keystore;
    }
}
