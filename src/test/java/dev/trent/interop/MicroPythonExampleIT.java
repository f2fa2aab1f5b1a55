package dev.trent.interop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TrentClient;
import dev.trent.tls.TlsServer;

/**
 * {@code examples/micropython/main.py}, the first-boot script for MicroPython boards, run as it
 * is (under CPython, the one branch it has for that aside) against Trent's HTTPS listener: it
 * gets a key and certificate by keygen, stores them as DER files, and completes a mutual-TLS
 * handshake with {@code openssl s_server -Verify -rev} that trusts Trent's chain (and answers). A second boot
 * reuses the stored identity (the token would be refused).
 */
class MicroPythonExampleIT extends IntegrationTest {

    private static final Path SCRIPT = Path.of("examples/micropython/main.py");

    @Autowired
    private TlsServer tls;

    @TempDir
    Path dir;

    /** trent.json, with PORT for s_server's port. */
    private String config;

    private record Run(int exit, String output) {
    }

    private Run boot() throws Exception {
        Process p = new ProcessBuilder("python3", "main.py").directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    /** openssl s_server requiring a client certificate under Trent's chain, answering lines reversed. */
    private dev.trent.support.OpensslServer.Result<Run> withServer() throws Exception {
        return dev.trent.support.OpensslServer.oneConnection(dir, List.of("-cert", "server.pem", "-cert_chain",
                "int.pem", "-key", "server.key", "-CAfile", "trust.pem", "-Verify", "2", "-verify_return_error", "-rev"),
                p -> {
                    Files.writeString(dir.resolve("trent.json"), config.replace("PORT", Integer.toString(p)));
                    return boot();
                });
    }

    @Test
    void firstBootEnrollsByKeygenStoresDerFilesAndConnectsWithMutualTls() throws Exception {
        Openssl.assumeAvailable();
        assertThat(SCRIPT).exists();
        Files.copy(SCRIPT, dir.resolve("main.py"));
        String device = deviceId("upy");
        TrentClient c = client();
        String token = c.token(ADMIN_KEY, device, "device", null);
        List<X509Certificate> chain = c.get("/api/v1/ca/chain", null, null).certificates();
        Files.write(dir.resolve("ca.der"), chain.get(chain.size() - 1).getEncoded());
        // The relying party: a server certificate from Trent, trusting Trent's intermediate and root.
        Openssl.ok(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=x",
                "-keyout", "server.key", "-out", "server.csr");
        TrentClient.Response server = c.enroll(c.token(ADMIN_KEY, deviceId("broker"), "server", List.of("localhost")),
                "application/x-pem-file", Files.readAllBytes(dir.resolve("server.csr")), null);
        assertThat(server.status()).as(server.toString()).isEqualTo(201);
        Files.writeString(dir.resolve("server.pem"), Pem.certificates(server.certificates().subList(0, 1)));
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(chain.subList(0, 1)));
        Files.writeString(dir.resolve("trust.pem"), Pem.certificates(chain));
        config = "{\"url\": \"localhost:" + tls.port() + "\", \"token\": \"" + token
                + "\", \"mtls\": [\"localhost\", PORT]}";

        dev.trent.support.OpensslServer.Result<Run> boot1 = withServer();
        Run first = boot1.client();
        String serverOut = boot1.serverOutput();

        assertThat(first.exit()).as(first.output()).isZero();
        assertThat(first.output()).contains("enrolled as " + device).containsPattern("mutual TLS to localhost:\\d+ ok")
                .contains("ecived tnerT a morf olleh"); // s_server -rev answers each line reversed
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(Files.readAllBytes(dir.resolve("cert.der"))));
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=" + device);
        java.security.PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(
                new PKCS8EncodedKeySpec(Files.readAllBytes(dir.resolve("key.der"))));
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(key);
        s.update(new byte[] {1});
        byte[] sig = s.sign();
        s.initVerify(cert);
        s.update(new byte[] {1});
        assertThat(s.verify(sig)).as("key.der is the key of cert.der").isTrue();
        assertThat(serverOut).as("s_server saw the device's certificate and accepted it")
                .contains("depth=0 CN = " + device + "\nverify return:1");

        // Second boot: the stored identity is used, no enrollment (the token is spent).
        dev.trent.support.OpensslServer.Result<Run> boot2 = withServer();
        Run second = boot2.client();
        String again = boot2.serverOutput();
        assertThat(second.exit()).as(second.output()).isZero();
        assertThat(second.output()).doesNotContain("enrolled as");
        assertThat(again).contains("depth=0 CN = " + device + "\nverify return:1");
    }
}
