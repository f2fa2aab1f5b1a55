package dev.trent.interop;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TrentClient;

/**
 * Mutual TLS end to end with certificates Trent issued, between two programs nobody here wrote:
 * {@code openssl s_server -Verify} (a server certificate from the {@code server} profile, the
 * chain, and the CRL from the CDP URL) accepts a device's {@code openssl s_client}; after the
 * device's certificate is revoked and a new CRL is out, the same server refuses it.
 */
class MutualTlsIT extends IntegrationTest {

    @TempDir
    Path dir;

    @BeforeEach
    void requireOpenssl() {
        Openssl.assumeAvailable();
    }

    /** Key and CSR by openssl, certificate by Trent: writes NAME.key and NAME.pem; returns the certificate. */
    private X509Certificate enroll(String name, String profile, List<String> dnsNames) throws Exception {
        Openssl.ok(dir, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
                "/CN=x", "-keyout", name + ".key", "-out", name + ".csr");
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, deviceId(name), profile, dnsNames),
                "application/x-pem-file", Files.readAllBytes(dir.resolve(name + ".csr")), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        Files.writeString(dir.resolve(name + ".pem"), Pem.certificates(r.certificates().subList(0, 1)));
        return r.certificates().get(0);
    }

    private X509CRL crl(String issuerId) throws Exception {
        TrentClient.Response r = client().get("/crl/" + issuerId + ".crl", null, null);
        assertThat(r.status()).isEqualTo(200);
        Files.write(dir.resolve("crl.der"), r.body());
        Openssl.ok(dir, "crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem");
        return (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(r.body()));
    }

    /** One handshake between s_server (client certificates required, CRL checked) and s_client. */
    private String handshake() throws Exception {
        dev.trent.support.OpensslServer.Result<Openssl.Result> r = dev.trent.support.OpensslServer.oneConnection(dir,
                List.of("-cert", "server.pem", "-cert_chain", "int.pem", "-key", "server.key", "-CAfile", "trust.pem",
                        "-Verify", "3", "-verify_return_error", "-crl_check", "-CRL", "crl.pem"),
                port -> Openssl.run(dir, "s_client", "-connect", "127.0.0.1:" + port, "-cert", "device.pem", "-key",
                        "device.key", "-cert_chain", "int.pem", "-CAfile", "root.pem", "-verify_return_error",
                        "-verify_hostname", "localhost"));
        return "CLIENT exit " + r.client().exitCode() + "\n" + r.client().output() + "\nSERVER\n" + r.serverOutput();
    }

    @Test
    void sServerWithChainAndCrlAcceptsTheDeviceThenRefusesItOnceRevoked() throws Exception {
        X509Certificate device = enroll("device", "device", null);
        enroll("server", "server", List.of("localhost"));
        List<X509Certificate> chain = client().get("/api/v1/ca/chain", null, null).certificates();
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(chain.subList(0, 1)));
        Files.writeString(dir.resolve("root.pem"), Pem.certificates(chain.subList(1, 2)));
        Files.writeString(dir.resolve("trust.pem"), Pem.certificates(chain));
        String issuerId = client().get("/api/v1/certificates/" + device.getSerialNumber().toString(16), ADMIN_KEY,
                "application/json").json().get("issuerId").asText();
        crl(issuerId);

        String accepted = handshake();

        assertThat(accepted).as(accepted).contains("CLIENT exit 0").contains("Verify return code: 0 (ok)")
                .doesNotContain("certificate revoked");

        assertThat(client().postJson("/api/v1/certificates/" + device.getSerialNumber().toString(16) + "/revoke",
                ADMIN_KEY, Map.of("reason", "keyCompromise")).status()).isEqualTo(200);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (crl(issuerId).getRevokedCertificate(device) == null) {
            assertThat(System.nanoTime()).as("a new CRL lists the revocation").isLessThan(deadline);
            Thread.sleep(200);
        }

        String refused = handshake();

        assertThat(refused).as(refused).containsIgnoringCase("certificate revoked");
    }
}
