package dev.trent.ca;

import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.operator.ContentSigner;

/**
 * The narrow signing port: the issuer's certificate chain and a signer for its key; nothing
 * else. Key generation and import live in {@link CaCeremony}. Adapters: a PKCS#12 keystore
 * ({@link KeystoreCaSigner}) and a PKCS#11 token ({@link Pkcs11CaSigner}).
 */
public interface CaSigner {

    /** The issuing certificate first, then its issuers up to and including the self-signed root. */
    List<X509Certificate> chain();

    /**
     * A new signer for the issuer's key. {@link ContentSigner} is stateful (it buffers what it
     * signs), so every signature needs its own instance.
     */
    ContentSigner contentSigner();

    /** False while the key cannot be reached (an HSM fault); {@link #contentSigner()} then fails fast. */
    default boolean available() {
        return true;
    }

    /** Why the key cannot be reached, or null. */
    default String fault() {
        return null;
    }

    /** While the key is unreachable, tries to reach it again if that is due; never throws. */
    default void reconnectIfDue() {
    }

    /** Where the key is, for logs and health details (never a secret). */
    default String describe() {
        return getClass().getSimpleName();
    }

    /** A stable reference to the key, recorded with the issuer in PostgreSQL (never a secret). */
    default String keyReference() {
        return null;
    }

    default X509Certificate issuerCertificate() {
        return chain().get(0);
    }

    default X509Certificate rootCertificate() {
        List<X509Certificate> chain = chain();
        return chain.get(chain.size() - 1);
    }
}
