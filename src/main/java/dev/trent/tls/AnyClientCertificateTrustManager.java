package dev.trent.tls;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.X509TrustManager;

/**
 * The HTTPS listener's trust manager for client certificates: any certificate passes the TLS
 * layer (the handshake still proves the client holds its key), because each endpoint decides
 * what it accepts: renewal only certificates Trent issued and recorded, byte for byte; other
 * endpoints none. The CertificateRequest names Trent's CAs ({@link #acceptedIssuers}).
 *
 * <p>Tomcat instantiates it by class name, so the CA list is held statically (one listener per
 * JVM; in tests that start several Trents in one JVM the list is the last one set).
 */
public final class AnyClientCertificateTrustManager implements X509TrustManager {

    private static volatile X509Certificate[] acceptedIssuers = new X509Certificate[0];

    static void acceptedIssuers(X509Certificate[] issuers) {
        acceptedIssuers = issuers.clone();
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("empty client certificate chain");
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("this trust manager only checks clients");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return acceptedIssuers.clone();
    }
}
