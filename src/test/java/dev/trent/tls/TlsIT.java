package dev.trent.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;


import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TrentApp;

/**
 * Trent's own HTTPS listener: a certificate from Trent's CA that clients validate against the
 * root (Java's PKIX validator, the JDK's HTTP client, openssl s_client with hostname checks),
 * client certificates requested but optional, renewal on a running listener, and an
 * operator-supplied certificate.
 */
class TlsIT extends IntegrationTest {

    @Autowired
    private TlsServer tls;

    @TempDir
    Path dir;

    private X509Certificate root() {
        return client().get("/api/v1/ca/root", null, null).certificates().get(0);
    }

    private HttpClient httpsClient(X509Certificate root) throws Exception {
        return HttpClient.newBuilder().sslContext(dev.trent.support.TestTls.context(root)).build();
    }

    @Test
    void httpsWhenClientTrustsTheRootThenHandshakeAndHostnameCheckPassAndApiAnswers() throws Exception {
        X509Certificate root = root();
        List<X509Certificate> chain = tls.chain();

        HttpResponse<String> r = httpsClient(root).send(HttpRequest.newBuilder(
                java.net.URI.create("https://localhost:" + tls.port() + "/api/v1/ca/chain")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("-----BEGIN CERTIFICATE-----");
        assertThat(chain).hasSize(2);
        X509Certificate leaf = chain.get(0);
        assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        assertThat(sans).extracting(l -> l.get(1).toString()).contains("localhost", "127.0.0.1");
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain),
                params);
        assertThat(jdbc.queryForObject("select count(*) from certificate where profile = 'tls-server' and serial = ?",
                Integer.class, leaf.getSerialNumber().toString(16))).as("recorded like every certificate").isEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'certificate.issued' and "
                + "subject = ? and details->>'profile' = 'tls-server'", Integer.class, leaf.getSerialNumber().toString(16)))
                .as("and audited").isEqualTo(1);
    }

    @Test
    void opensslWhenConnectingWithAndWithoutClientCertificateThenBothHandshakesSucceed() throws Exception {
        Openssl.assumeAvailable();
        Files.writeString(dir.resolve("root.pem"), Pem.certificates(List.of(root())));
        String target = "127.0.0.1:" + tls.port();

        Openssl.Result anonymous = Openssl.ok(dir, "s_client", "-connect", target, "-CAfile", "root.pem",
                "-verify_return_error", "-verify_hostname", "localhost", "-verify_ip", "127.0.0.1");
        Openssl.ok(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "client.key", "-out", "client.pem", "-subj", "/CN=any-client", "-days", "1");
        Openssl.Result withCertificate = Openssl.ok(dir, "s_client", "-connect", target, "-CAfile", "root.pem",
                "-verify_return_error", "-cert", "client.pem", "-key", "client.key");

        String rootName = "CN = " + root().getSubjectX500Principal().getName().replaceAll(".*CN=([^,]+).*", "$1");
        assertThat(anonymous.output()).contains("Verify return code: 0 (ok)")
                .as("the server asks for a client certificate from Trent's CAs only")
                .contains("Acceptable client certificate CA names").contains(rootName).doesNotContain("DigiCert");
        assertThat(withCertificate.output()).contains("Verify return code: 0 (ok)");
    }

    @Test
    void renewalOnARunningListenerServesTheNewCertificateToNewConnections() throws Exception {
        X509Certificate before = tls.chain().get(0);

        tls.renewNow();

        X509Certificate after = tls.chain().get(0);
        assertThat(after.getSerialNumber()).isNotEqualTo(before.getSerialNumber());
        javax.net.ssl.SSLSocketFactory factory = dev.trent.support.TestTls.context(root()).getSocketFactory();
        try (javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) factory.createSocket(
                InetAddress.getLoopbackAddress(), tls.port())) {
            socket.startHandshake();
            X509Certificate served = (X509Certificate) socket.getSession().getPeerCertificates()[0];
            assertThat(served.getSerialNumber()).isEqualTo(after.getSerialNumber());
        }
    }

    @Test
    void operatorSuppliedCertificateIsPresentedAsGiven() throws Exception {
        Openssl.assumeAvailable();
        Openssl.ok(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "server.key", "-out", "server.pem", "-subj", "/CN=ops.example", "-days", "30", "-addext",
                "subjectAltName=DNS:ops.example");
        try (TrentApp app = TrentApp.start(Map.of("trent.data-dir", dir.resolve("data").toString(),
                "trent.bootstrap-admin-token", ADMIN_KEY, "trent.tls.certificate-file", dir.resolve("server.pem").toString(),
                "trent.tls.key-file", dir.resolve("server.key").toString()))) {
            TlsServer server = app.context().getBean(TlsServer.class);

            Openssl.Result r = Openssl.ok(dir, "s_client", "-connect", "127.0.0.1:" + server.port(), "-CAfile",
                    "server.pem", "-verify_return_error", "-verify_hostname", "ops.example");

            assertThat(r.output()).contains("CN = ops.example").contains("Verify return code: 0 (ok)");
        }
    }

    @Test
    void operatorSuppliedKeyThatDoesNotMatchTheCertificateStopsTheStart() throws Exception {
        Openssl.assumeAvailable();
        Openssl.ok(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "server.key", "-out", "server.pem", "-subj", "/CN=ops.example", "-days", "30");
        Openssl.ok(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key");

        Throwable failure = org.assertj.core.api.Assertions.catchThrowable(() -> TrentApp.start(Map.of("trent.data-dir",
                dir.resolve("data2").toString(), "trent.bootstrap-admin-token", ADMIN_KEY, "trent.tls.certificate-file",
                dir.resolve("server.pem").toString(), "trent.tls.key-file", dir.resolve("other.key").toString())).close());

        assertThat(failure).isNotNull();
        assertThat(TrentApp.messages(failure)).contains("does not hold the key of the certificate");
    }

    /** The HTTPS connector gets the HTTP connector's limits ({@code server.*}, {@code server.tomcat.*}). */
    @Test
    void httpsConnectorWhenHeaderLimitIsConfiguredThenOversizedHeadersAreRefusedAsOnHttp() throws Exception {
        try (TrentApp app = TrentApp.start(Map.of("trent.data-dir", dir.resolve("limits").toString(),
                "trent.bootstrap-admin-token", ADMIN_KEY, "server.max-http-request-header-size", "2KB",
                "server.tomcat.threads.max", "17"))) {
            TlsServer server = app.context().getBean(TlsServer.class);
            X509Certificate root = app.client().get("/api/v1/ca/root", null, null).certificates().get(0);
            dev.trent.support.TrentClient https = dev.trent.support.TrentClient.https(server.port(), root);
            Map<String, String> big = Map.of("X-Padding", "a".repeat(3000));

            assertThat(https.send("GET", "/api/v1/ca/chain", Map.of(), null).status()).isEqualTo(200);
            assertThat(https.send("GET", "/api/v1/ca/chain", big, null).status()).as("HTTPS").isEqualTo(400);
            assertThat(app.client().send("GET", "/api/v1/ca/chain", big, null).status()).as("HTTP").isEqualTo(400);
            assertThat(((org.apache.coyote.AbstractProtocol<?>) server.connector().getProtocolHandler()).getMaxThreads())
                    .isEqualTo(17);
        }
    }
}
