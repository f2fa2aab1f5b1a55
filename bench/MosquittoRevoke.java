import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * Revoke to disconnect on Mosquitto: for each of N devices, enrolls through Trent, connects to
 * the broker's mutual-TLS listener with Paho, waits until it has access (a subscription is
 * granted), revokes the certificate and measures from the revoke call returning to Paho seeing
 * the connection closed. A negative time means the broker closed the connection before the
 * revoke call had returned (Trent wakes its relay at the commit). Loopback only.
 *
 * Usage: java -cp paho:bcprov:bcpkix:bcutil bench/MosquittoRevoke.java TRENT_URL ADMIN_KEY MQTT_PORT N
 */
public class MosquittoRevoke {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        String trent = args[0];
        String admin = args[1];
        int port = Integer.parseInt(args[2]);
        int n = Integer.parseInt(args[3]);
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> chain = new ArrayList<>();
        for (var c : cf.generateCertificates(new java.io.ByteArrayInputStream(
                send(HttpRequest.newBuilder(URI.create(trent + "/api/v1/ca/chain")).GET()).body()))) {
            chain.add((X509Certificate) c);
        }
        X509Certificate root = chain.get(chain.size() - 1);
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        List<Double> millis = new ArrayList<>();
        List<Double> access = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String device = "mqb-" + System.nanoTime();
            String tokenJson = new String(send(HttpRequest.newBuilder(URI.create(trent + "/api/v1/enrollment-tokens"))
                    .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"deviceId\":\"" + device
                            + "\",\"profile\":\"device\"}"))).body(), StandardCharsets.UTF_8);
            String token = tokenJson.replaceAll(".*\"token\":\"([^\"]+)\".*", "$1");
            KeyPair keys = g.generateKeyPair();
            byte[] csr = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=x"), keys.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())).getEncoded();
            HttpResponse<byte[]> enrolled = send(HttpRequest.newBuilder(URI.create(trent + "/api/v1/enroll"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/pkcs10")
                    .header("Accept", "application/pkix-cert").POST(HttpRequest.BodyPublishers.ofByteArray(csr)));
            long issued = System.nanoTime();
            X509Certificate cert = (X509Certificate) cf.generateCertificate(new java.io.ByteArrayInputStream(enrolled.body()));

            MqttClient mqtt = new MqttClient("ssl://localhost:" + port, device, new MemoryPersistence());
            MqttConnectOptions o = new MqttConnectOptions();
            o.setSocketFactory(tls(root, keys, cert).getSocketFactory());
            o.setCleanSession(true);
            AtomicLong lost = new AtomicLong();
            CountDownLatch closed = new CountDownLatch(1);
            mqtt.setCallback(new MqttCallback() {
                public void connectionLost(Throwable cause) {
                    lost.set(System.nanoTime());
                    closed.countDown();
                }

                public void messageArrived(String topic, MqttMessage message) {
                }

                public void deliveryComplete(IMqttDeliveryToken token) {
                }
            });
            mqtt.connect(o);
            while (!granted(mqtt, "devices/" + device + "/cmd")) {
                if (System.nanoTime() - issued > 10_000_000_000L) {
                    throw new IllegalStateException(device + " has no broker access 10 s after enrollment");
                }
                Thread.sleep(5);
            }
            access.add((System.nanoTime() - issued) / 1e6);
            send(HttpRequest.newBuilder(URI.create(trent + "/api/v1/certificates/" + cert.getSerialNumber().toString(16)
                    + "/revoke")).header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"privilegeWithdrawn\"}")));
            long returned = System.nanoTime();
            if (!closed.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException(device + " still connected 10 s after the revoke");
            }
            millis.add((lost.get() - returned) / 1e6);
            mqtt.close(true);
        }
        Collections.sort(millis);
        Collections.sort(access);
        System.out.printf("RESULT revocations=%d revoke_to_disconnect median_ms=%.1f p90_ms=%.1f max_ms=%.1f min_ms=%.1f"
                + " | enroll_to_access median_ms=%.0f max_ms=%.0f%n", n, millis.get(n / 2),
                millis.get((int) Math.ceil(n * 0.9) - 1), millis.get(n - 1), millis.get(0), access.get(n / 2),
                access.get(n - 1));
    }

    static boolean granted(MqttClient mqtt, String topic) throws MqttException {
        try {
            return mqtt.subscribeWithResponse(topic, 1).getGrantedQos()[0] == 1;
        } catch (MqttException e) {
            if (e.getReasonCode() == MqttException.REASON_CODE_SUBSCRIBE_FAILED) {
                return false;
            }
            throw e;
        }
    }

    static SSLContext tls(X509Certificate root, KeyPair keys, X509Certificate cert) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("device", keys.getPrivate(), "x".toCharArray(), new X509Certificate[] {cert});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, "x".toCharArray());
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("root", root);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ssl;
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
