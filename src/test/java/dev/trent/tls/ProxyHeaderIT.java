package dev.trent.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;

/**
 * Behind a TLS-terminating proxy: the client certificate arrives in a header (URL-encoded PEM,
 * as nginx's {@code $ssl_client_escaped_cert}) and counts only from a trusted proxy address.
 */
class ProxyHeaderIT {

    @TempDir
    Path dir;

    private Map<String, String> settings(String trustedProxies, String name) {
        Map<String, String> s = new HashMap<>();
        s.put("trent.data-dir", dir.resolve(name).toString());
        s.put("trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY);
        s.put("trent.tls.client-cert-header", "X-SSL-Client-Cert");
        s.put("trent.tls.trusted-proxies", trustedProxies);
        return s;
    }

    private static TrentClient.Response renewThroughProxyHeader(TrentApp app) throws Exception {
        TrentClient c = app.client();
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        String device = "proxied-" + System.nanoTime();
        byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + device), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
        TrentClient.Response enrolled = c.enroll(c.token(IntegrationTest.ADMIN_KEY, device, "device", null),
                "application/pkcs10", csr, null);
        assertThat(enrolled.status()).isEqualTo(201);
        X509Certificate current = enrolled.certificates().get(0);
        String header = URLEncoder.encode(Pem.certificates(List.of(current)), StandardCharsets.UTF_8);
        return c.send("POST", "/api/v1/renew", Map.of("Content-Type", "application/pkcs10", "X-SSL-Client-Cert", header),
                csr);
    }

    @Test
    void renewWhenHeaderComesFromATrustedProxyThenAcceptedElseIgnored() throws Exception {
        TrentClient.Response trusted;
        try (TrentApp app = TrentApp.start(settings("127.0.0.1,::1", "a"))) {
            trusted = renewThroughProxyHeader(app);
        }
        TrentClient.Response untrusted;
        try (TrentApp app = TrentApp.start(settings("10.9.9.9/32", "b"))) {
            untrusted = renewThroughProxyHeader(app);
        }

        assertThat(trusted.status()).as(trusted.toString()).isEqualTo(201);
        assertThat(untrusted.status()).as(untrusted.toString()).isEqualTo(401);
        assertThat(untrusted.json().get("type").asText()).isEqualTo("https://trent.dev/problems/client-certificate-required");
    }

    @Test
    void headerFormsThatProxiesSendAreRead() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        X500Name name = new X500Name("CN=proxy-form");
        X509Certificate cert = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
                new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.ONE,
                        new java.util.Date(), new java.util.Date(System.currentTimeMillis() + 60_000), name,
                        keys.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        String pem = Pem.certificates(List.of(cert));

        assertThat(ProxyClientCertificateFilter.parse(URLEncoder.encode(pem, StandardCharsets.UTF_8))[0]).isEqualTo(cert);
        assertThat(ProxyClientCertificateFilter.parse(pem.replace("\n", " "))[0]).as("newlines as spaces").isEqualTo(cert);
        assertThat(ProxyClientCertificateFilter.parse(java.util.Base64.getEncoder().encodeToString(cert.getEncoded()))[0])
                .as("bare base64 DER").isEqualTo(cert);
        assertThat(ProxyClientCertificateFilter.parse("garbage")).isNull();
        assertThat(ProxyClientCertificateFilter.trustedProxy("10.0.0.0/8").matches("10.1.2.3")).isTrue();
        assertThat(ProxyClientCertificateFilter.trustedProxy("10.0.0.0/8").matches("11.0.0.1")).isFalse();
    }
}
