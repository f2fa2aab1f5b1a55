package dev.trent.ca;

import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.operator.ContentSigner;

/**
 * The narrow signing port: the issuer's certificate chain and a signer for its key; nothing
 * else. Whether the key can be reached, why not, reconnecting and where it lives are
 * {@link KeyStatus}, a separate type that adapters implement beside this one; metrics wrap this
 * port only ({@link SignerMetrics}). Key generation and import live in {@link CaCeremony}.
 * Adapters: a PKCS#12 keystore ({@link KeystoreCaSigner}) and a PKCS#11 token
 * ({@link Pkcs11CaSigner}).
 */
public interface CaSigner {

    /** The issuing certificate first, then its issuers up to and including the self-signed root. */
    List<X509Certificate> chain();

    /**
     * A new signer for the issuer's key. {@link ContentSigner} is stateful (it buffers what it
     * signs), so every signature needs its own instance.
     */
    ContentSigner contentSigner();

    default X509Certificate issuerCertificate() {
        return chain().get(0);
    }

    default X509Certificate rootCertificate() {
        List<X509Certificate> chain = chain();
        return chain.get(chain.size() - 1);
    }
}
