package dev.trent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import javax.security.auth.x500.X500Principal;

import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import dev.trent.ca.CaCeremony;
import dev.trent.pki.Pem;
import dev.trent.support.Openssl;

/**
 * The {@code ca} command line (offline key ceremony), run in-process through
 * {@link CaCli#run}: the files it writes, their permissions, the chains they hold, and its
 * answers to bad input.
 */
class CaCliTest {

    @TempDir
    Path tmp;

    @BeforeAll
    static void noPasswordFromEnvironment() {
        // With TRENT_CA_KEYSTORE_PASSWORD set, the CLI writes no .pass files; these tests cover the
        // generated-password path and would not be exact otherwise.
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("TRENT_CA_KEYSTORE_PASSWORD") == null,
                "TRENT_CA_KEYSTORE_PASSWORD is set in this environment; the CLI would not generate passwords");
    }

    /** One CLI run: exit code and what it printed. */
    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nout: " + out + "\nerr: " + err;
        }
    }

    static Run cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = CaCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run ok(String... args) {
        Run r = cli(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.err()).as(r.toString()).isEmpty();
        return r;
    }

    static CaCeremony.KeyAndChain keystore(Path p12) throws IOException {
        Path pass = p12.resolveSibling(p12.getFileName() + ".pass");
        return CaCeremony.readKeystore(p12, Files.readString(pass).strip().toCharArray(), null);
    }

    static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    static boolean keyMatches(PrivateKey key, PublicKey pub) throws Exception {
        String alg = ((ECPublicKey) pub).getParams().getCurve().getField().getFieldSize() > 256 ? "SHA384withECDSA"
                : "SHA256withECDSA";
        byte[] probe = "ca-cli-test".getBytes(StandardCharsets.US_ASCII);
        Signature s = Signature.getInstance(alg);
        s.initSign(key);
        s.update(probe);
        byte[] sig = s.sign();
        Signature v = Signature.getInstance(alg);
        v.initVerify(pub);
        v.update(probe);
        return v.verify(sig);
    }

    static void assertPkixValid(List<X509Certificate> path, X509Certificate root) throws Exception {
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false); // CA certificates here carry no CRL/OCSP pointers
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path),
                params);
    }

    // ---- init ---------------------------------------------------------------------------------------

    @Test
    void initWhenNewDirectoryThenOwnerOnlyFilesAndValidChain() throws Exception {
        Path dir = tmp.resolve("ca");

        Run r = ok("init", "--out", dir.toString(), "--organization", "Acme Fleet");

        assertThat(r.out()).contains("intermediate.p12", "root.p12");
        org.junit.jupiter.api.Assumptions.assumeTrue(
                Files.getFileStore(dir).supportsFileAttributeView("posix"), "no POSIX permissions on this file system");
        assertThat(mode(dir)).isEqualTo("rwx------");
        for (String f : List.of("root.p12", "root.p12.pass", "intermediate.p12", "intermediate.p12.pass")) {
            assertThat(mode(dir.resolve(f))).as(f).isEqualTo("rw-------");
        }
        assertThat(dir.resolve("root.pem")).isRegularFile();
        assertThat(dir.resolve("chain.pem")).isRegularFile();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).as("no temporary files left behind")
                    .containsExactlyInAnyOrder("root.p12", "root.p12.pass", "intermediate.p12",
                            "intermediate.p12.pass", "root.pem", "chain.pem");
        }

        CaCeremony.KeyAndChain intermediate = keystore(dir.resolve("intermediate.p12"));
        CaCeremony.KeyAndChain root = keystore(dir.resolve("root.p12"));
        List<X509Certificate> rootPem = CaCeremony.readCertificates(dir.resolve("root.pem"));
        List<X509Certificate> chainPem = CaCeremony.readCertificates(dir.resolve("chain.pem"));

        assertThat(rootPem).containsExactly(root.certificate());
        assertThat(intermediate.chain()).containsExactly(intermediate.certificate(), root.certificate());
        assertThat(chainPem).isEqualTo(intermediate.chain());
        CaCeremony.validateIssuer(intermediate, java.time.Instant.now());
        assertPkixValid(List.of(intermediate.certificate()), root.certificate());
        assertThat(keyMatches(intermediate.privateKey(), intermediate.certificate().getPublicKey())).isTrue();
        assertThat(keyMatches(root.privateKey(), root.certificate().getPublicKey())).isTrue();
        assertThat(intermediate.certificate().getBasicConstraints()).as("pathLen 0").isZero();
        assertThat(root.certificate().getSubjectX500Principal().getName()).contains("O=Acme Fleet");
        assertThat(Files.readString(dir.resolve("root.p12.pass")))
                .isNotEqualTo(Files.readString(dir.resolve("intermediate.p12.pass")));
    }

    @Test
    void initWhenCaFilesExistThenRefusesAndLeavesThemUnchanged() throws Exception {
        Path dir = tmp.resolve("ca");
        ok("init", "--out", dir.toString());
        byte[] rootBefore = Files.readAllBytes(dir.resolve("root.p12"));
        byte[] intermediateBefore = Files.readAllBytes(dir.resolve("intermediate.p12"));
        byte[] passBefore = Files.readAllBytes(dir.resolve("intermediate.p12.pass"));

        Run again = cli("init", "--out", dir.toString());

        assertThat(again.exit()).as(again.toString()).isNotZero();
        assertThat(again.err()).contains("refusing to overwrite");
        assertThat(Files.readAllBytes(dir.resolve("root.p12"))).isEqualTo(rootBefore);
        assertThat(Files.readAllBytes(dir.resolve("intermediate.p12"))).isEqualTo(intermediateBefore);
        assertThat(Files.readAllBytes(dir.resolve("intermediate.p12.pass"))).isEqualTo(passBefore);
    }

    @Test
    void initWhenKeyAlgorithmEcP384ThenP384KeysAndSha384Signatures() throws Exception {
        Path dir = tmp.resolve("ca384");

        ok("init", "--out", dir.toString(), "--key-algorithm", "EC_P384");

        CaCeremony.KeyAndChain intermediate = keystore(dir.resolve("intermediate.p12"));
        for (X509Certificate c : intermediate.chain()) {
            assertThat(c.getPublicKey()).isInstanceOf(ECPublicKey.class);
            assertThat(((ECPublicKey) c.getPublicKey()).getParams().getCurve().getField().getFieldSize())
                    .as("curve of " + c.getSubjectX500Principal()).isEqualTo(384);
            assertThat(c.getSigAlgName()).isEqualToIgnoringCase("SHA384withECDSA");
        }
        assertThat(keyMatches(intermediate.privateKey(), intermediate.certificate().getPublicKey())).isTrue();
    }

    // ---- csr -> sign -> import ------------------------------------------------------------------------

    @Test
    void importWhenCsrSignedByExternalRootThenKeystoreChainIsIntermediateThenRoot() throws Exception {
        Path rootDir = tmp.resolve("offline-root");
        Path intDir = tmp.resolve("server");
        ok("init", "--out", rootDir.toString());
        ok("csr", "--out", intDir.toString(), "--subject", "CN=Fleet Issuing CA,O=Acme");
        PublicKey csrKey = csrPublicKey(intDir.resolve("intermediate.csr"));
        CaCeremony.KeyAndChain pending = keystore(intDir.resolve("intermediate.p12"));
        assertThat(pending.certificate().getPublicKey()).as("the key waits under a placeholder").isEqualTo(csrKey);

        ok("sign", "--root-keystore", rootDir.resolve("root.p12").toString(), "--root-password-file",
                rootDir.resolve("root.p12.pass").toString(), "--csr", intDir.resolve("intermediate.csr").toString(),
                "--out", intDir.resolve("intermediate.pem").toString());
        Run imported = ok("import", "--keystore", intDir.resolve("intermediate.p12").toString(), "--password-file",
                intDir.resolve("intermediate.p12.pass").toString(), "--cert",
                intDir.resolve("intermediate.pem").toString(), "--chain", rootDir.resolve("root.pem").toString());

        assertThat(imported.out()).contains("chain of 2");
        X509Certificate root = CaCeremony.readCertificates(rootDir.resolve("root.pem")).get(0);
        CaCeremony.KeyAndChain result = keystore(intDir.resolve("intermediate.p12"));
        assertThat(result.chain()).hasSize(2);
        X509Certificate intermediate = result.certificate();
        assertThat(intermediate.getSubjectX500Principal()).isEqualTo(new X500Principal("CN=Fleet Issuing CA,O=Acme"));
        assertThat(intermediate.getPublicKey()).isEqualTo(csrKey);
        assertThat(intermediate.getBasicConstraints()).as("CA with pathLen 0").isZero();
        assertThat(result.chain().get(1)).isEqualTo(root);
        intermediate.verify(root.getPublicKey());
        assertThat(keyMatches(result.privateKey(), intermediate.getPublicKey())).isTrue();
        assertThat(result.privateKey()).isEqualTo(pending.privateKey());
        CaCeremony.validateIssuer(result, java.time.Instant.now());
        assertPkixValid(List.of(intermediate), root);
    }

    @Test
    void csrWhenP384ThenCsrCarriesP384Key() throws Exception {
        Path dir = tmp.resolve("csr384");

        ok("csr", "--out", dir.toString(), "--subject", "CN=P384 Issuing CA", "--key-algorithm", "EC_P384");

        PublicKey key = csrPublicKey(dir.resolve("intermediate.csr"));
        assertThat(((ECPublicKey) key).getParams().getCurve().getField().getFieldSize()).isEqualTo(384);
    }

    @Test
    void csrWhenCheckedByOpensslThenSelfSignatureVerifies() throws Exception {
        Openssl.assumeAvailable();
        Path dir = tmp.resolve("csr");
        ok("csr", "--out", dir.toString(), "--subject", "CN=Fleet Issuing CA,O=Acme");

        Openssl.Result r = Openssl.ok(dir, "req", "-verify", "-noout", "-in", "intermediate.csr", "-subject",
                "-nameopt", "RFC2253");

        assertThat(r.output()).as(r.toString()).contains("verify OK")
                .contains("subject=CN=Fleet Issuing CA,O=Acme");
    }

    @Test
    void signWhenCsrTamperedThenRefused() throws Exception {
        Path rootDir = tmp.resolve("root");
        Path intDir = tmp.resolve("int");
        ok("init", "--out", rootDir.toString());
        ok("csr", "--out", intDir.toString(), "--subject", "CN=Fleet Issuing CA");
        Path csr = intDir.resolve("intermediate.csr");
        byte[] der = Pem.decodeAll(Files.readString(csr)).get(0).der();
        der[der.length - 5] ^= 0x01; // inside the signature
        Files.writeString(csr, Pem.encode("CERTIFICATE REQUEST", der));

        Run r = cli("sign", "--root-keystore", rootDir.resolve("root.p12").toString(), "--root-password-file",
                rootDir.resolve("root.p12.pass").toString(), "--csr", csr.toString(), "--out",
                intDir.resolve("intermediate.pem").toString());

        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).startsWith("trent ca: ").contains("CSR");
        assertThat(intDir.resolve("intermediate.pem")).doesNotExist();
    }

    // ---- bad arguments ----------------------------------------------------------------------------------

    static Stream<Arguments> badArguments() {
        return Stream.of(
                Arguments.of(List.of(), "a command is required"),
                Arguments.of(List.of("frobnicate"), "unknown command 'frobnicate'"),
                Arguments.of(List.of("init"), "--out is required"),
                Arguments.of(List.of("init", "--out"), "--out needs a value"),
                Arguments.of(List.of("init", "--out", "@DIR@", "--bogus", "x"), "unknown option '--bogus'"),
                Arguments.of(List.of("init", "--out", "@DIR@", "--key-algorithm", "RSA"),
                        "--key-algorithm must be EC_P256 or EC_P384"),
                Arguments.of(List.of("init", "--out", "@DIR@", "--root-validity-days", "0"),
                        "--root-validity-days must be a positive number of days"),
                Arguments.of(List.of("csr", "--out", "@DIR@"), "--subject is required"),
                Arguments.of(List.of("sign", "--root-keystore", "@DIR@/missing.p12", "--root-password-file",
                        "@DIR@/missing.pass", "--csr", "@DIR@/x.csr", "--out", "@DIR@/x.pem"),
                        "no such file: "),
                Arguments.of(List.of("csr", "--out", "@DIR@", "--subject", "not a dn"),
                        "--subject must be a distinguished name"),
                Arguments.of(List.of("import", "--keystore", "@DIR@/missing.p12", "--cert", "@DIR@/c.pem", "--chain",
                        "@DIR@/r.pem"), "--password-file"),
                Arguments.of(List.of("list", "--pkcs11-library", "@DIR@/lib.so", "--slot-index", "one"),
                        "trent ca: --slot-index must be a number"),
                Arguments.of(List.of("list", "--pkcs11-library", "@DIR@/lib.so", "--slot-index", "0", "--token-label",
                        "t", "--pin-file", "@DIR@/pin"), "give --slot-index or --token-label, not both"),
                Arguments.of(List.of("list"), "trent ca: --keystore is required"),
                Arguments.of(List.of("sign", "--root-keystore", "@DIR@/r.p12", "--csr", "@DIR@/x.csr", "--out",
                        "@DIR@/x.pem", "--organization", "O"), "unknown option '--organization' (see 'ca help sign')"),
                Arguments.of(List.of("rotate", "--server", "http://127.0.0.1:9", "--key-label", "k",
                        "--allow-new-root", "yes"), "--allow-new-root 'yes' is not a boolean"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badArguments")
    void runWhenBadArgumentsThenNonZeroExitAndMessageOnErr(List<String> args, String message) {
        Path dir = tmp.resolve("out");
        String[] argv = args.stream().map(a -> a.replace("@DIR@", dir.toString())).toArray(String[]::new);

        Run r = cli(argv);

        assertThat(r.exit()).as(r.toString()).isNotZero();
        assertThat(r.err()).as(r.toString()).contains(message);
        assertThat(dir).as("nothing written on bad arguments").doesNotExist();
    }

    @Test
    void runWhenHelpThenUsageOnOutAndZeroExit() {
        Run r = cli("help");

        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("usage: java -jar trent.jar ca", "init", "csr", "sign", "import");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void runWhenHelpForOneCommandThenItsOptionsOnOut() {
        Run r = ok("help", "sign");

        assertThat(r.out()).startsWith("usage: java -jar trent.jar ca sign")
                .contains("--root-keystore root.p12", "--root-password-file F", "--csr FILE", "--out FILE",
                        "--validity-days N", "(default 3650)");
        assertThat(ok("init", "--help").out()).contains("--out DIR", "--key-algorithm EC_P256|EC_P384",
                "--pkcs11-library LIB", "--key-label K");
    }

    @Test
    void runWhenNoCommandThenUsageOnErrAndExitTwo() {
        Run r = cli();

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("trent ca: a command is required").contains("usage: java -jar trent.jar ca");
    }

    @Test
    void rotateWhenLabelNeedsEscapingThenBodyIsJsonCarryingItExactly() throws Exception {
        String label = "next \"2027\" \\ key\u0001";
        Path keyFile = tmp.resolve("admin.key");
        Files.writeString(keyFile, "trent_ak_test\n");
        java.util.concurrent.atomic.AtomicReference<String> body = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> first = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<String> authorization =
                new java.util.concurrent.atomic.AtomicReference<>();
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/api/v1/issuers/rotate", exchange -> {
            body.set(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] answer = "{\"changed\":true}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        try {
            Run r = ok("rotate", "--server", "http://127.0.0.1:" + server.getAddress().getPort() + "//", "--key-label",
                    label, "--api-key-file", keyFile.toString(), "--allow-new-root", "true");
            first.set(body.get());

            assertThat(r.out().strip()).isEqualTo("{\"changed\":true}");
            // No @file expansion: a label that names an existing file is still the label.
            ok("rotate", "--server", "http://127.0.0.1:" + server.getAddress().getPort(), "--key-label",
                    "@" + keyFile, "--api-key-file", keyFile.toString());
            assertThat(tools.jackson.databind.json.JsonMapper.builder().build().readTree(body.get()).get("keyLabel")
                    .asString()).isEqualTo("@" + keyFile);
        } finally {
            server.stop(0);
        }
        assertThat(authorization.get()).isEqualTo("Bearer trent_ak_test");
        tools.jackson.databind.JsonNode json = tools.jackson.databind.json.JsonMapper.builder().build()
                .readTree(first.get());
        assertThat(json.properties()).hasSize(2);
        assertThat(json.get("keyLabel").asString()).isEqualTo(label);
        assertThat(json.get("allowNewRoot").isBoolean()).isTrue();
        assertThat(json.get("allowNewRoot").asBoolean()).isTrue();
    }

    private static PublicKey csrPublicKey(Path csrFile) throws Exception {
        List<Pem.Block> blocks = Pem.decodeAll(Files.readString(csrFile));
        assertThat(blocks).hasSize(1);
        assertThat(blocks.get(0).label()).isEqualTo("CERTIFICATE REQUEST");
        PKCS10CertificationRequest csr = new PKCS10CertificationRequest(blocks.get(0).der());
        return new JcaPEMKeyConverter().getPublicKey(csr.getSubjectPublicKeyInfo());
    }
}
