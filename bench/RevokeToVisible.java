import java.math.BigInteger;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * Revoke-to-visible: enrolls on instance A, asks instance B's OCSP (nonce-less GET, so B caches a
 * pre-signed 'good'), revokes on A, and measures the time from the revoke call returning until
 * B's OCSP says 'revoked'. Prints the median, p90 and max over N revocations. Loopback only.
 *
 * Usage: java -cp bcprov:bcpkix:bcutil bench/RevokeToVisible.java A_URL B_URL ADMIN_KEY N
 */
public class RevokeToVisible {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        String a = args[0];
        String b = args[1];
        String admin = args[2];
        int n = Integer.parseInt(args[3]);
        for (String u : List.of(a, b)) {
            String host = URI.create(u).getHost();
            if (!host.equals("127.0.0.1") && !host.equals("localhost")) {
                throw new IllegalArgumentException("loopback only: " + u);
            }
        }
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        X509Certificate issuer = (X509Certificate) cf.generateCertificates(new java.io.ByteArrayInputStream(
                send(HttpRequest.newBuilder(URI.create(b + "/api/v1/ca/chain")).GET()).body())).iterator().next();
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        List<Double> millis = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String device = "rtv-" + System.nanoTime();
            String tokenJson = new String(send(HttpRequest.newBuilder(URI.create(a + "/api/v1/enrollment-tokens"))
                    .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"deviceId\":\"" + device
                            + "\",\"profile\":\"device\"}"))).body(), StandardCharsets.UTF_8);
            String token = tokenJson.replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
            KeyPair keys = g.generateKeyPair();
            byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=x"), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
            HttpResponse<byte[]> enrolled = send(HttpRequest.newBuilder(URI.create(a + "/api/v1/enroll"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/pkcs10")
                    .header("Accept", "application/pkix-cert").POST(HttpRequest.BodyPublishers.ofByteArray(csr)));
            X509Certificate cert = (X509Certificate) cf.generateCertificate(
                    new java.io.ByteArrayInputStream(enrolled.body()));
            CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build()
                    .get(CertificateID.HASH_SHA1), new X509CertificateHolder(issuer.getEncoded()), cert.getSerialNumber());
            String path = b + "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(
                    new OCSPReqBuilder().addRequest(id).build().getEncoded()), StandardCharsets.US_ASCII);
            if (revoked(path)) {
                throw new IllegalStateException("a new certificate reported revoked");
            }
            revoked(path); // now certainly from B's pre-signed cache
            send(HttpRequest.newBuilder(URI.create(a + "/api/v1/certificates/" + cert.getSerialNumber().toString(16)
                    + "/revoke")).header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"keyCompromise\"}")));
            long t0 = System.nanoTime();
            while (!revoked(path)) {
                if (System.nanoTime() - t0 > 10_000_000_000L) {
                    throw new IllegalStateException("not revoked on B after 10 s");
                }
                Thread.sleep(5);
            }
            millis.add((System.nanoTime() - t0) / 1e6);
        }
        Collections.sort(millis);
        System.out.printf("RESULT revocations=%d median_ms=%.0f p90_ms=%.0f max_ms=%.0f%n", n,
                millis.get(n / 2), millis.get((int) Math.ceil(n * 0.9) - 1), millis.get(n - 1));
    }

    static boolean revoked(String url) throws Exception {
        OCSPResp resp = new OCSPResp(send(HttpRequest.newBuilder(URI.create(url)).GET()).body());
        return ((BasicOCSPResp) resp.getResponseObject()).getResponses()[0].getCertStatus() instanceof RevokedStatus;
    }

    static HttpResponse<byte[]> send(HttpRequest.Builder b) throws Exception {
        HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(r.uri() + " answered " + r.statusCode() + ": "
                    + new String(r.body(), StandardCharsets.UTF_8));
        }
        return r;
    }
}
