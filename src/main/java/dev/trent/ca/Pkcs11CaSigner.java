package dev.trent.ca;

import java.io.OutputStream;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.ProviderException;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CaSigner} over a key in a PKCS#11 token. The data to be signed is hashed in software
 * and only the hash goes to the token ({@code NONEwithECDSA}, i.e. CKM_ECDSA): one call into the
 * HSM per signature, whatever the size of a CRL. The private key is a handle; Trent never asks
 * for its value.
 *
 * <p>Faults: a failed signature throws {@link SigningException} (503 for a request) and drops the
 * session; the next signer asked for re-initializes the module, logs in again and finds the key
 * again (at most once per {@code reconnectInterval}), so the service recovers without a restart.
 */
public final class Pkcs11CaSigner implements CaSigner {

    private static final Logger log = LoggerFactory.getLogger(Pkcs11CaSigner.class);

    private final Pkcs11Token token;
    private final String keyLabel;
    private final List<X509Certificate> chain;
    private final AlgorithmIdentifier algorithm;
    private final String digest;
    private final Clock clock;
    private final Duration reconnectInterval;

    /** The connected key, or null after a fault until the next successful reconnect. */
    private volatile Connected connected;
    private volatile String lastFault;
    private Instant lastAttempt = Instant.EPOCH;

    private record Connected(Pkcs11Token.Session session, PrivateKey key) {
    }

    /**
     * Connects to the token and checks the key against the chain's first certificate.
     *
     * @param chain the issuer chain, or null to read it from the token (stored under the key's alias)
     * @throws IllegalStateException with one line naming the cause when the token cannot be used
     */
    public static Pkcs11CaSigner connect(Pkcs11Token token, String keyLabel, List<X509Certificate> chain, Clock clock,
            Duration reconnectInterval) {
        Connected c = open(token, keyLabel);
        List<X509Certificate> actual = chain != null ? chain : chainFromToken(c.session().keyStore(), keyLabel, token);
        Pkcs11CaSigner signer = new Pkcs11CaSigner(token, keyLabel, actual, clock, reconnectInterval);
        signer.connected = c;
        signer.checkKeyMatchesCertificate();
        return signer;
    }

    /**
     * A signer that starts disconnected (degraded start): it knows the chain, and connects on the
     * first signature it is asked for.
     */
    public static Pkcs11CaSigner disconnected(Pkcs11Token token, String keyLabel, List<X509Certificate> chain,
            Clock clock, Duration reconnectInterval, String fault) {
        Pkcs11CaSigner signer = new Pkcs11CaSigner(token, keyLabel, chain, clock, reconnectInterval);
        signer.lastFault = fault;
        return signer;
    }

    private Pkcs11CaSigner(Pkcs11Token token, String keyLabel, List<X509Certificate> chain, Clock clock,
            Duration reconnectInterval) {
        this.token = token;
        this.keyLabel = keyLabel;
        this.chain = List.copyOf(chain);
        this.clock = clock;
        this.reconnectInterval = reconnectInterval;
        X509Certificate cert = chain.get(0);
        if (!(cert.getPublicKey() instanceof ECPublicKey)) {
            throw new IllegalStateException("the PKCS#11 issuer key '" + keyLabel + "' must be an EC key (P-256 or "
                    + "P-384), not " + cert.getPublicKey().getAlgorithm());
        }
        String jca = SignatureAlgorithms.forKey(cert.getPublicKey());
        this.algorithm = new DefaultSignatureAlgorithmIdentifierFinder().find(jca);
        this.digest = jca.substring(0, jca.indexOf("with")).replace("SHA", "SHA-");
    }

    private static Connected open(Pkcs11Token token, String keyLabel) {
        Pkcs11Token.Session session = token.open();
        try {
            Key key = session.keyStore().getKey(keyLabel, null);
            if (!(key instanceof PrivateKey pk)) {
                throw new CaUnavailableException("no private key labelled '" + keyLabel + "' in " + token.describe()
                        + " (keys present: " + Pkcs11Token.keyAliases(session.keyStore()) + ")", null);
            }
            return new Connected(session, pk);
        } catch (GeneralSecurityException | ProviderException e) {
            throw new CaUnavailableException("cannot read key '" + keyLabel + "' from " + token.describe() + ": "
                    + Pkcs11Token.cause(e), e);
        }
    }

    private static List<X509Certificate> chainFromToken(KeyStore ks, String keyLabel, Pkcs11Token token) {
        try {
            Certificate[] stored = ks.getCertificateChain(keyLabel);
            if (stored == null || stored.length == 0) {
                throw new CaUnavailableException("the token holds no certificate for key '" + keyLabel + "' in "
                        + token.describe() + ": import it (ca import) or set trent.ca.chain-file", null);
            }
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : stored) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the certificate chain of '" + keyLabel + "': " + e, e);
        }
    }

    private void checkKeyMatchesCertificate() {
        byte[] probe = "trent key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try {
            ContentSigner s = contentSigner();
            s.getOutputStream().write(probe);
            byte[] sig = s.getSignature();
            Signature v = Signature.getInstance(SignatureAlgorithms.forKey(chain.get(0).getPublicKey()));
            v.initVerify(chain.get(0).getPublicKey());
            v.update(probe);
            if (!v.verify(sig)) {
                throw new CaUnavailableException("key '" + keyLabel + "' in " + token.describe() + " does not match the "
                        + "certificate " + chain.get(0).getSubjectX500Principal(), null);
            }
        } catch (java.io.IOException | GeneralSecurityException e) {
            throw new CaUnavailableException("cannot check key '" + keyLabel + "' against its certificate: "
                    + Pkcs11Token.cause(e), e);
        }
    }

    @Override
    public List<X509Certificate> chain() {
        return chain;
    }

    @Override
    public boolean available() {
        return connected != null;
    }

    @Override
    public String fault() {
        return connected != null ? null : lastFault;
    }

    @Override
    public ContentSigner contentSigner() {
        Connected c = connectedOrReconnect();
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(digest + " is not available", e);
        }
        OutputStream out = new OutputStream() {
            @Override
            public void write(int b) {
                md.update((byte) b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                md.update(b, off, len);
            }
        };
        return new ContentSigner() {
            @Override
            public AlgorithmIdentifier getAlgorithmIdentifier() {
                return algorithm;
            }

            @Override
            public OutputStream getOutputStream() {
                return out;
            }

            @Override
            public byte[] getSignature() {
                byte[] hash = md.digest();
                try {
                    return signHash(c, hash);
                } catch (GeneralSecurityException | ProviderException first) {
                    // A stale session or handle (the HSM restarted, failed over, or logged us out)
                    // heals with one reconnect; a token that is really gone fails it.
                    Connected again = reconnectAfterFault(c, first);
                    try {
                        return signHash(again, hash);
                    } catch (GeneralSecurityException | ProviderException e) {
                        throw fail(again, e);
                    }
                }
            }
        };
    }

    private static byte[] signHash(Connected c, byte[] hash) throws GeneralSecurityException {
        Signature s = Signature.getInstance("NONEwithECDSA", c.session().provider());
        s.initSign(c.key());
        s.update(hash);
        return s.sign();
    }

    /** Marks {@code c} broken, records why, and returns a new connection or throws SigningException. */
    private SigningException fail(Connected c, Exception e) {
        String why = Pkcs11Token.cause(e);
        synchronized (this) {
            if (connected == c) {
                connected = null;
            }
            lastFault = "signing in " + token.describe() + " failed: " + why;
        }
        log.error("PKCS#11 signature with key '{}' failed ({}); the next request reconnects", keyLabel, why);
        return new SigningException("the HSM could not sign: " + why, e);
    }

    private Connected reconnectAfterFault(Connected c, Exception e) {
        String why = Pkcs11Token.cause(e);
        synchronized (this) {
            if (connected != null && connected != c) {
                return connected; // another thread has reconnected meanwhile
            }
            connected = null;
            lastFault = "signing in " + token.describe() + " failed: " + why;
            log.warn("PKCS#11 signature with key '{}' failed ({}); reconnecting", keyLabel, why);
            return reconnect();
        }
    }

    private Connected connectedOrReconnect() {
        Connected c = connected;
        if (c != null) {
            return c;
        }
        synchronized (this) {
            if (connected != null) {
                return connected;
            }
            if (clock.instant().isBefore(lastAttempt.plus(reconnectInterval))) {
                throw new SigningException("the HSM is unavailable: " + lastFault, null);
            }
            return reconnect();
        }
    }

    /** Re-initializes the module, logs in, finds the key and checks it; caller holds the lock. */
    private Connected reconnect() {
        lastAttempt = clock.instant();
        try {
            token.reinitialize();
            Connected fresh = open(token, keyLabel);
            connected = fresh;
            checkKeyMatchesCertificate();
            log.info("Reconnected to {} (key '{}')", token.describe(), keyLabel);
            return fresh;
        } catch (RuntimeException e) {
            connected = null;
            lastFault = e.getMessage();
            log.warn("Reconnecting to {} failed: {}", token.describe(), e.getMessage());
            throw new SigningException("the HSM is unavailable: " + e.getMessage(), e);
        }
    }

    /** How PostgreSQL records where this key lives (see {@link IssuerRegistry}). */
    public static String keyReference(Pkcs11Token token, String keyLabel) {
        return token.uri(keyLabel);
    }

    @Override
    public String keyReference() {
        return keyReference(token, keyLabel);
    }

    @Override
    public String describe() {
        return "PKCS#11 key '" + keyLabel + "' in " + token.describe();
    }
}
