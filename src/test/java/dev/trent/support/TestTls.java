package dev.trent.support;

import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/** TLS client material for talking to Trent's HTTPS listener: Trent's root as the only trust anchor. */
public final class TestTls {

    private TestTls() {
    }

    /** The JDK's PKIX trust manager with {@code root} as its only anchor (no provider registration needed). */
    public static X509TrustManager trusting(X509Certificate root) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", root);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(trust);
            return (X509TrustManager) tmf.getTrustManagers()[0];
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A TLS context trusting {@code root}, presenting {@code certificate} with {@code keys} when both are given. */
    public static SSLContext context(X509Certificate root, KeyPair keys, X509Certificate certificate) {
        try {
            KeyManagerFactory kmf = null;
            if (keys != null) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                ks.setKeyEntry("client", keys.getPrivate(), "x".toCharArray(), new X509Certificate[] {certificate});
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, "x".toCharArray());
            }
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf == null ? null : kmf.getKeyManagers(), new javax.net.ssl.TrustManager[] {trusting(root)}, null);
            return ssl;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static SSLContext context(X509Certificate root) {
        return context(root, null, null);
    }
}
