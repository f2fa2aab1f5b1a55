package dev.trent.est;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.est.EnrollmentResponse;
import org.bouncycastle.est.jcajce.JsseESTServiceBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TrentClient;
import dev.trent.tls.TlsServer;

/**
 * Renewal with the current certificate over Trent's HTTPS listener: EST simplereenroll (Bouncy
 * Castle's EST client, with a new key) and {@code POST /api/v1/renew} (curl with {@code --cert}),
 * and every refusal: no certificate, a certificate Trent did not issue, a revoked one, a changed
 * subject.
 */
class RenewalIT extends IntegrationTest {

    @Autowired
    private TlsServer tls;

    @TempDir
    Path dir;

    private record Device(String id, KeyPair keys, X509Certificate certificate) {
    }

    private static KeyPair p256() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static PKCS10CertificationRequest csr(KeyPair keys, String subject) throws Exception {
        return new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate()));
    }

    private Device enrolled() throws Exception {
        String id = deviceId("renew");
        KeyPair keys = p256();
        TrentClient c = client();
        TrentClient.Response r = c.enroll(c.token(ADMIN_KEY, id, "device", null), "application/pkcs10",
                csr(keys, "CN=whatever").getEncoded(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return new Device(id, keys, r.certificates().get(0));
    }

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    private SSLContext tlsContext(KeyPair keys, X509Certificate certificate) {
        return dev.trent.support.TestTls.context(chain().get(chain().size() - 1), keys, certificate);
    }

    private HttpResponse<String> reenroll(SSLContext ssl, byte[] csrDer) throws Exception {
        return HttpClient.newBuilder().sslContext(ssl).build().send(HttpRequest.newBuilder(
                URI.create("https://localhost:" + tls.port() + "/.well-known/est/simplereenroll"))
                .header("Content-Type", "application/pkcs10")
                .POST(HttpRequest.BodyPublishers.ofByteArray(Base64.getMimeEncoder().encode(csrDer))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void simplereenrollWhenBouncyCastleClientPresentsItsCertificateThenNewCertificateForANewKey() throws Exception {
        Device d = enrolled();
        KeyPair next = p256();
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("device", d.keys().getPrivate(), "x".toCharArray(), new X509Certificate[] {d.certificate()});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());

        EnrollmentResponse r = new JsseESTServiceBuilder("localhost:" + tls.port(),
                dev.trent.support.TestTls.trusting(chain().get(chain().size() - 1))).withKeyManagers(kmf.getKeyManagers())
                .build().simpleEnroll(true, csr(next, "CN=" + d.id()), null);

        List<X509Certificate> issued = new ArrayList<>();
        for (Object o : r.getStore().getMatches(null)) {
            issued.add(new JcaX509CertificateConverter().getCertificate((X509CertificateHolder) o));
        }
        assertThat(issued).hasSize(1);
        X509Certificate renewed = issued.get(0);
        assertThat(renewed.getSubjectX500Principal()).isEqualTo(d.certificate().getSubjectX500Principal());
        assertThat(renewed.getPublicKey()).as("rekeyed").isEqualTo(next.getPublic());
        assertThat(renewed.getSerialNumber()).isNotEqualTo(d.certificate().getSerialNumber());
        renewed.verify(chain().get(0).getPublicKey());
        assertThat(jdbc.queryForObject("select status from certificate where serial = ?", String.class,
                d.certificate().getSerialNumber().toString(16))).as("the old one stays valid").isEqualTo("ISSUED");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'certificate.renewed' "
                + "and subject = ? and details->>'previous' = ?", Integer.class, renewed.getSerialNumber().toString(16),
                d.certificate().getSerialNumber().toString(16))).isEqualTo(1);
    }

    @Test
    void renewOverRestWhenCurlPresentsTheCertificateThen201WithTheChain() throws Exception {
        Openssl.assumeAvailable();
        Device d = enrolled();
        List<X509Certificate> chain = chain();
        Files.writeString(dir.resolve("root.pem"), Pem.certificates(chain.subList(chain.size() - 1, chain.size())));
        Files.writeString(dir.resolve("cert.pem"), Pem.certificates(List.of(d.certificate())));
        Files.writeString(dir.resolve("key.pem"), Pem.encode("PRIVATE KEY", d.keys().getPrivate().getEncoded()));
        Files.writeString(dir.resolve("csr.pem"), Pem.encode("CERTIFICATE REQUEST",
                csr(d.keys(), "CN=" + d.id()).getEncoded()));

        Process curl = new ProcessBuilder("curl", "-sS", "--fail-with-body", "--cacert", "root.pem", "--cert", "cert.pem",
                "--key", "key.pem", "-H", "Content-Type: application/x-pem-file", "--data-binary", "@csr.pem",
                "-o", "renewed.pem", "-w", "%{http_code}", "https://localhost:" + tls.port() + "/api/v1/renew")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

        assertThat(curl.waitFor()).as(out).isZero();
        assertThat(out).isEqualTo("201");
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(chain.subList(0, 1)));
        Openssl.ok(dir, "verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "renewed.pem");
        assertThat(Files.readString(dir.resolve("renewed.pem"))).doesNotContain(
                Pem.certificates(List.of(d.certificate())).strip());
    }

    @Test
    void renewOverRestWhenCsrSubjectDiffersThenTheCaDecidesTheContentAsEnrollmentDoes() throws Exception {
        Device d = enrolled();
        // A device that renews with the CSR template it enrolled with (REST enrollment ignores the
        // CSR's subject): REST renewal ignores it too; EST simplereenroll keeps RFC 7030's rule
        // (reenrollRefusals...: subject-mismatch over EST).
        KeyPair next = p256();
        HttpResponse<String> r = java.net.http.HttpClient.newBuilder().sslContext(tlsContext(d.keys(), d.certificate()))
                .build().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("https://localhost:" + tls.port() + "/api/v1/renew"))
                        .header("Content-Type", "application/pkcs10").header("Accept", "application/pem-certificate-chain")
                        .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(
                                csr(next, "CN=factory-template,O=Line 3").getEncoded()))
                        .build(), HttpResponse.BodyHandlers.ofString());

        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        X509Certificate renewed = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(r.body().getBytes(
                        java.nio.charset.StandardCharsets.US_ASCII))).iterator().next();
        assertThat(renewed.getSubjectX500Principal()).isEqualTo(d.certificate().getSubjectX500Principal());
        assertThat(renewed.getPublicKey()).isEqualTo(next.getPublic());
        assertThat(renewed.getSerialNumber()).isNotEqualTo(d.certificate().getSerialNumber());
    }

    @Test
    void simplereenrollWhenCurlPresentsTheCertificateThenPkcs7WithTheRenewedCertificate() throws Exception {
        Openssl.assumeAvailable();
        Device d = enrolled();
        List<X509Certificate> chain = chain();
        Files.writeString(dir.resolve("root.pem"), Pem.certificates(chain.subList(chain.size() - 1, chain.size())));
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(chain.subList(0, 1)));
        Files.writeString(dir.resolve("cert.pem"), Pem.certificates(List.of(d.certificate())));
        Files.writeString(dir.resolve("key.pem"), Pem.encode("PRIVATE KEY", d.keys().getPrivate().getEncoded()));
        Files.write(dir.resolve("csr.b64"), Base64.getMimeEncoder().encode(csr(d.keys(), "CN=" + d.id()).getEncoded()));

        Process curl = new ProcessBuilder("curl", "-sS", "--fail-with-body", "--cacert", "root.pem", "--cert", "cert.pem",
                "--key", "key.pem", "-H", "Content-Type: application/pkcs10", "--data-binary", "@csr.b64",
                "-o", "renewed.b64", "https://localhost:" + tls.port() + "/.well-known/est/simplereenroll")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);

        assertThat(curl.waitFor()).as(out).isZero();
        Files.write(dir.resolve("renewed.p7"), Base64.getMimeDecoder().decode(Files.readAllBytes(dir.resolve("renewed.b64"))));
        Openssl.ok(dir, "pkcs7", "-inform", "DER", "-in", "renewed.p7", "-print_certs", "-out", "renewed.pem");
        Openssl.ok(dir, "verify", "-CAfile", "root.pem", "-untrusted", "int.pem", "renewed.pem");
        assertThat(Openssl.ok(dir, "x509", "-in", "renewed.pem", "-noout", "-subject", "-serial").output())
                .contains("CN = " + d.id()).doesNotContain(d.certificate().getSerialNumber().toString(16).toUpperCase());
    }

    @Test
    void reenrollRefusalsWithoutCertificateForeignRevokedOrChangedSubject() throws Exception {
        Device d = enrolled();
        Device revoked = enrolled();
        assertThat(client().postJson("/api/v1/certificates/" + revoked.certificate().getSerialNumber().toString(16)
                + "/revoke", ADMIN_KEY, Map.of("reason", "cessationOfOperation")).status()).isEqualTo(200);
        KeyPair stranger = p256();
        // A forgery of d's certificate: same serial, issuer and subject, another key, signed by a stranger.
        X509Certificate selfSigned = new JcaX509CertificateConverter().getCertificate(
                new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
                        X500Name.getInstance(d.certificate().getIssuerX500Principal().getEncoded()),
                        d.certificate().getSerialNumber(), new java.util.Date(), new java.util.Date(System.currentTimeMillis()
                                + 86_400_000L), new X500Name("CN=" + d.id()), stranger.getPublic())
                        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(stranger.getPrivate())));

        HttpResponse<String> none = reenroll(tlsContext(null, null), csr(d.keys(), "CN=" + d.id()).getEncoded());
        // The JDK's client offers only certificates from the CAs the server names (Trent's), so a
        // foreign certificate is sent with curl, which presents whatever it is given.
        Files.writeString(dir.resolve("root.pem"), Pem.certificates(List.of(chain().get(chain().size() - 1))));
        Files.writeString(dir.resolve("foreign.pem"), Pem.certificates(List.of(selfSigned)));
        Files.writeString(dir.resolve("foreign.key"), Pem.encode("PRIVATE KEY", stranger.getPrivate().getEncoded()));
        Files.write(dir.resolve("csr.b64"), Base64.getMimeEncoder().encode(csr(stranger, "CN=" + d.id()).getEncoded()));
        Process curl = new ProcessBuilder("curl", "-sS", "--cacert", "root.pem", "--cert", "foreign.pem", "--key",
                "foreign.key", "-H", "Content-Type: application/pkcs10", "--data-binary", "@csr.b64", "-w", "\n%{http_code}",
                "https://localhost:" + tls.port() + "/.well-known/est/simplereenroll")
                .directory(dir.toFile()).redirectErrorStream(true).start();
        String foreign = new String(curl.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(curl.waitFor()).as(foreign).isZero();
        HttpResponse<String> wasRevoked = reenroll(tlsContext(revoked.keys(), revoked.certificate()),
                csr(revoked.keys(), "CN=" + revoked.id()).getEncoded());
        HttpResponse<String> otherSubject = reenroll(tlsContext(d.keys(), d.certificate()),
                csr(d.keys(), "CN=someone-else").getEncoded());

        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.body()).contains("client-certificate-required");
        assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
        assertThat(foreign).contains("client-certificate-invalid").endsWith("\n403");
        assertThat(wasRevoked.statusCode()).isEqualTo(403);
        assertThat(wasRevoked.body()).contains("client-certificate-revoked");
        assertThat(otherSubject.statusCode()).isEqualTo(400);
        assertThat(otherSubject.body()).contains("subject-mismatch");
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id in (?, ?)", Integer.class,
                d.id(), revoked.id())).as("nothing issued by a refusal").isEqualTo(2);
    }

    /** Renews {@code d} with a new key over EST; the renewed device (same id). */
    private Device rekeyed(Device d) throws Exception {
        KeyPair next = p256();
        HttpResponse<String> r = reenroll(tlsContext(d.keys(), d.certificate()), csr(next, "CN=" + d.id()).getEncoded());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        org.bouncycastle.cms.CMSSignedData p7 = new org.bouncycastle.cms.CMSSignedData(
                Base64.getMimeDecoder().decode(r.body()));
        X509CertificateHolder h = (X509CertificateHolder) p7.getCertificates().getMatches(null).iterator().next();
        return new Device(d.id(), next, new JcaX509CertificateConverter().getCertificate(h));
    }

    private String status(X509Certificate c) {
        return jdbc.queryForObject("select status || ':' || coalesce(revocation_reason, '') from certificate where serial = ?",
                String.class, c.getSerialNumber().toString(16));
    }

    @Test
    void keyCompromiseOfACertificateRevokesTheRenewalsMadeWithItDownTheLineageAndOtherReasonsDoNot() throws Exception {
        // A thief with the first key renews (rekeying to a key of their own), and again.
        Device original = enrolled();
        Device renewed = rekeyed(original);
        Device again = rekeyed(renewed);
        assertThat(jdbc.queryForObject("select p.serial from certificate c join certificate p on p.id = c.renewed_from "
                + "where c.serial = ?", String.class, again.certificate().getSerialNumber().toString(16)))
                .isEqualTo(renewed.certificate().getSerialNumber().toString(16));

        TrentClient.Response r = client().postJson("/api/v1/certificates/"
                + original.certificate().getSerialNumber().toString(16) + "/revoke", ADMIN_KEY,
                Map.of("reason", "keyCompromise"));

        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(status(renewed.certificate())).isEqualTo("REVOKED:keyCompromise");
        assertThat(status(again.certificate())).isEqualTo("REVOKED:keyCompromise");
        assertThat(jdbc.queryForObject("select details::text from audit_event where action = 'certificate.revoked' and "
                + "subject = ?", String.class, renewed.certificate().getSerialNumber().toString(16)))
                .contains(original.certificate().getSerialNumber().toString(16));
        assertThat(jdbc.queryForObject("select count(*) from blocked_key where public_key_sha256 = ?", Integer.class,
                dev.trent.pki.Hashes.sha256Hex(again.keys().getPublic().getEncoded()))).as("the thief's key").isEqualTo(1);

        // Any other reason concerns that certificate only: its successor is the device's own.
        Device retired = enrolled();
        Device successor = rekeyed(retired);
        assertThat(client().postJson("/api/v1/certificates/" + retired.certificate().getSerialNumber().toString(16)
                + "/revoke", ADMIN_KEY, Map.of("reason", "superseded")).status()).isEqualTo(200);
        assertThat(status(successor.certificate())).isEqualTo("ISSUED:");
    }
}
