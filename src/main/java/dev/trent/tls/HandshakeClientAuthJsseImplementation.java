package dev.trent.tls;

import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.apache.tomcat.util.net.SSLUtil;
import org.apache.tomcat.util.net.jsse.JSSEImplementation;
import org.apache.tomcat.util.net.jsse.JSSEUtil;

/**
 * Tomcat's JSSE implementation for the HTTPS listener, without the start-up warning that "the
 * JSSE TLS 1.3 implementation does not support post handshake authentication (PHA) and is
 * therefore incompatible with optional certificate authentication".
 *
 * <p>That warning is about asking for a client certificate <em>after</em> the handshake (a
 * servlet container's CLIENT-CERT login on some URL). Trent never does: with optional
 * verification JSSE sends the CertificateRequest in the handshake itself (RFC 8446 4.3.2), and
 * every endpoint that uses a client certificate (renewal, EST with a factory certificate) reads
 * the one presented there, over TLS 1.3 as over 1.2 (tests: RenewalIT, ManufacturerCaValidationIT
 * with {@code openssl s_client -tls1_3}). {@link JSSEUtil}'s second argument exists for this: it
 * turns that warning, and the one for configured protocols or ciphers the JVM lacks (Trent's
 * listener names only TLS 1.2 and 1.3 and the JVM's default ciphers), into debug messages.
 *
 * <p>Tomcat instantiates it by class name ({@code sslImplementationName}).
 */
public final class HandshakeClientAuthJsseImplementation extends JSSEImplementation {

    @Override
    public SSLUtil getSSLUtil(SSLHostConfigCertificate certificate) {
        return new JSSEUtil(certificate, false);
    }
}
