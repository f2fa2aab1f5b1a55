package dev.trent.ca;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
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
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DefaultSignatureAlgorithmIdentifierFinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/**
 * {@link CaSigner} over a key in a PKCS#11 token. The data to be signed is hashed in software
 * and only the hash goes to the token ({@code NONEwithECDSA}, i.e. CKM_ECDSA): one call into the
 * HSM per signature, whatever the size of a CRL. The private key is a handle; Trent never asks
 * for its value. Every signer of one token shares the token's session ({@link Pkcs11Token}).
 *
 * <p>Faults: a signature that fails is retried once after the module was re-initialized and the
 * key found again (a stale session or handle: the HSM restarted, failed over or logged us out);
 * if that fails too, the request gets {@link SigningException} (503) and the signer stays
 * disconnected. It then reconnects at most once per {@code reconnectInterval}: when asked to
 * sign, and from {@link #reconnectIfDue()} (called every second, so health recovers without
 * traffic). That gate is a Resilience4j circuit breaker on the injected clock: closed while
 * connected, opened by a fault or a failed reconnect, half-open (one reconnect attempt allowed)
 * once the interval has passed; requests meanwhile fail fast with 503. The one immediate retry
 * after a fault is not a breaker's business (it needs a re-initialized module between the two
 * attempts), so it stays explicit in {@link #contentSigner()}.
 */
public final class Pkcs11CaSigner implements CaSigner, KeyStatus {

    private static final Logger log = LoggerFactory.getLogger(Pkcs11CaSigner.class);
    /** Resilience4j's least wait in the open state (a zero interval: the CLI's one-off checks). */
    private static final Duration MIN_WAIT = Duration.ofMillis(1);

    private final Pkcs11Token token;
    private final String keyLabel;
    private final List<X509Certificate> chain;
    private final AlgorithmIdentifier algorithm;
    private final String digest;
    private final Duration reconnectInterval;
    private final CircuitBreaker reconnects;

    /** The connected key, or null after a fault until the next successful reconnect. */
    private volatile Connected connected;
    private volatile String lastFault;
    /** The session generation that last failed: a reconnect re-initializes the module only if it is still current. */
    private long failedGeneration = -1;

    private record Connected(Pkcs11Token.Session session, PrivateKey key) {
    }

    /**
     * Connects to the token and checks the key against the chain's first certificate.
     *
     * @param chain the issuer chain, or null to read it from the token (stored under the key's alias)
     * @throws CaUnavailableException with one line naming the cause when the key cannot be used
     */
    public static Pkcs11CaSigner connect(Pkcs11Token token, String keyLabel, List<X509Certificate> chain, Clock clock,
            Duration reconnectInterval) {
        Connected c = open(token, keyLabel);
        List<X509Certificate> actual = chain != null ? chain : chainFromToken(c.session().keyStore(), keyLabel, token);
        Pkcs11CaSigner signer = new Pkcs11CaSigner(token, keyLabel, actual, clock, reconnectInterval);
        signer.checkKeyMatchesCertificate(c);
        signer.connected = c;
        return signer;
    }

    /**
     * A signer that starts disconnected (degraded start): it knows the chain, and connects when
     * asked to sign or from {@link #reconnectIfDue()}.
     */
    public static Pkcs11CaSigner disconnected(Pkcs11Token token, String keyLabel, List<X509Certificate> chain,
            Clock clock, Duration reconnectInterval, String fault) {
        Pkcs11CaSigner signer = new Pkcs11CaSigner(token, keyLabel, chain, clock, reconnectInterval);
        signer.lastFault = fault;
        signer.reconnects.transitionToOpenState();
        signer.reconnects.transitionToHalfOpenState(); // the first reconnect may come at once
        return signer;
    }

    private Pkcs11CaSigner(Pkcs11Token token, String keyLabel, List<X509Certificate> chain, Clock clock,
            Duration reconnectInterval) {
        this.token = token;
        this.keyLabel = keyLabel;
        this.chain = List.copyOf(chain);
        this.reconnectInterval = reconnectInterval;
        this.reconnects = CircuitBreaker.of("pkcs11:" + keyLabel, CircuitBreakerConfig.custom()
                .clock(clock)
                .waitDurationInOpenState(reconnectInterval.compareTo(MIN_WAIT) < 0 ? MIN_WAIT : reconnectInterval)
                .permittedNumberOfCallsInHalfOpenState(1)
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .build());
        X509Certificate cert = chain.get(0);
        if (!(cert.getPublicKey() instanceof ECPublicKey)) {
            throw new CaUnavailableException("the PKCS#11 issuer key '" + keyLabel + "' must be an EC key (P-256 or "
                    + "P-384), not " + cert.getPublicKey().getAlgorithm(), null);
        }
        String jca = SignatureAlgorithms.forKey(cert.getPublicKey());
        this.algorithm = new DefaultSignatureAlgorithmIdentifierFinder().find(jca);
        this.digest = jca.substring(0, jca.indexOf("with")).replace("SHA", "SHA-");
    }

    /** The key by label from the token's shared session (read again from the token if it is new). */
    private static Connected open(Pkcs11Token token, String keyLabel) {
        Pkcs11Token.Session session = token.open();
        try {
            Key key = session.keyStore().getKey(keyLabel, null);
            if (key == null) {
                key = token.freshKeyStore().getKey(keyLabel, null);
            }
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
        } catch (GeneralSecurityException | ProviderException e) {
            throw new CaUnavailableException("cannot read the certificate chain of '" + keyLabel + "': "
                    + Pkcs11Token.cause(e), e);
        }
    }

    /** Signs a probe with {@code c} and verifies it with the certificate's key; never reconnects. */
    private void checkKeyMatchesCertificate(Connected c) {
        byte[] probe = "trent key check".getBytes(StandardCharsets.US_ASCII);
        try {
            byte[] sig = signHash(c, MessageDigest.getInstance(digest).digest(probe));
            Signature v = Signature.getInstance(SignatureAlgorithms.forKey(chain.get(0).getPublicKey()));
            v.initVerify(chain.get(0).getPublicKey());
            v.update(probe);
            if (!v.verify(sig)) {
                throw new CaUnavailableException("key '" + keyLabel + "' in " + token.describe() + " does not match the "
                        + "certificate " + chain.get(0).getSubjectX500Principal(), null);
            }
        } catch (GeneralSecurityException | ProviderException e) {
            throw new CaUnavailableException("key '" + keyLabel + "' in " + token.describe() + " cannot sign: "
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

    private byte[] signHash(Connected c, byte[] hash) throws GeneralSecurityException {
        return token.withModule(() -> {
            Signature s = Signature.getInstance("NONEwithECDSA", c.session().provider());
            s.initSign(c.key());
            s.update(hash);
            return s.sign();
        });
    }

    /** Marks {@code c} broken and returns the exception for the request. */
    private SigningException fail(Connected c, Exception e) {
        String why = Pkcs11Token.cause(e);
        synchronized (this) {
            if (connected == c) {
                connected = null;
                failedGeneration = c.session().generation();
                reconnects.transitionToOpenState();
            }
            lastFault = "signing in " + token.describe() + " failed: " + why;
        }
        log.error("PKCS#11 signature with key '{}' failed ({}); reconnecting at most every {}", keyLabel, why,
                reconnectInterval);
        return new SigningException("the HSM could not sign: " + why, e);
    }

    /** After a failed signature with {@code c}: a connection that works now, or SigningException. */
    private Connected reconnectAfterFault(Connected c, Exception e) {
        String why = Pkcs11Token.cause(e);
        synchronized (this) {
            if (connected != null && connected != c) {
                return connected; // another thread has reconnected meanwhile
            }
            connected = null;
            failedGeneration = c.session().generation();
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
            if (!reconnects.tryAcquirePermission()) {
                throw new SigningException("the HSM is unavailable: " + lastFault, null);
            }
            return reconnect();
        }
    }

    /** While disconnected, tries to reconnect once the interval has passed; never throws. */
    @Override
    public void reconnectIfDue() {
        if (connected != null) {
            return;
        }
        synchronized (this) {
            if (connected != null || !reconnects.tryAcquirePermission()) {
                return;
            }
            try {
                reconnect();
            } catch (SigningException e) {
                // logged by reconnect(); health stays DOWN
            }
        }
    }

    /**
     * Re-initializes the module unless another signer already did since our session failed,
     * finds the key again in the token's new session and checks it; caller holds the lock.
     */
    private Connected reconnect() {
        try {
            token.reinitialize(failedGeneration >= 0 ? failedGeneration : token.generation());
            Connected fresh = open(token, keyLabel);
            checkKeyMatchesCertificate(fresh);
            connected = fresh;
            failedGeneration = -1;
            reconnects.transitionToClosedState();
            log.info("Reconnected to {} (key '{}')", token.describe(), keyLabel);
            return fresh;
        } catch (CaUnavailableException e) {
            connected = null;
            // The module was (re)initialized in a state that did not work (say, while the token
            // was absent): the next attempt must initialize it again.
            failedGeneration = token.generation();
            lastFault = e.getMessage();
            reconnects.transitionToOpenState(); // the next attempt after reconnectInterval
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
