package dev.trent.pki;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Locale;
import java.util.Map;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;

/**
 * The JCA providers used for software signature and verification math. Neither is registered
 * globally: callers name them explicitly.
 *
 * <p>{@link #BC Bouncy Castle} is the portable baseline (about five times faster than SunEC for
 * ECDSA P-256 on JDK 17, and the same on every JDK). {@link #signatures(String)} prefers the
 * Amazon Corretto Crypto Provider, native code (AWS-LC) shipped for Linux x86-64, where it loads
 * and passes a cross-check against Bouncy Castle at start: an ECDSA P-256 signature and its
 * verification take a few tens of microseconds there instead of a few hundred, and need no JIT
 * warm-up (bench/README.md, "Native signature math"). Anywhere it does not load (another OS or
 * CPU, a libc it was not built for, a temporary directory mounted noexec) or when
 * {@code trent.crypto.native=false} (system property) or {@code TRENT_CRYPTO_NATIVE=false}
 * (environment) says so, Bouncy Castle does the same work, with the same results on the wire.
 */
public final class Providers {

    private static final Logger log = LoggerFactory.getLogger(Providers.class);

    /** Stateless after construction, so one shared instance is safe. */
    public static final Provider BC = new BouncyCastleProvider();

    /** The native provider when it is usable here, else null. */
    private static final Provider NATIVE = loadNative();

    private Providers() {
    }

    /**
     * The provider for a {@link Signature} algorithm (a JCA name such as {@code SHA256withECDSA}):
     * the native one when it is usable and offers the algorithm, else Bouncy Castle.
     */
    public static Provider signatures(String algorithm) {
        if (NATIVE != null && NATIVE.getService("Signature", algorithm) != null) {
            return NATIVE;
        }
        return BC;
    }

    /**
     * The provider to verify a {@link Signature} algorithm with {@code key}, one of
     * {@link #publicKey}'s: the native one when it offers the algorithm and decodes keys of that
     * type (so the key is its own), else Bouncy Castle. (The native provider signs with Ed25519 but
     * decodes no Ed25519 key, and refuses Bouncy Castle's.)
     */
    public static Provider verifying(String algorithm, PublicKey key) {
        if (NATIVE != null && NATIVE.getService("Signature", algorithm) != null
                && NATIVE.getService("KeyFactory", key.getAlgorithm()) != null) {
            return NATIVE;
        }
        return BC;
    }

    /** JCA key algorithm names by the OID of a SubjectPublicKeyInfo's algorithm. */
    private static final Map<ASN1ObjectIdentifier, String> KEY_ALGORITHMS = Map.of(
            X9ObjectIdentifiers.id_ecPublicKey, "EC",
            PKCSObjectIdentifiers.rsaEncryption, "RSA",
            EdECObjectIdentifiers.id_Ed25519, "Ed25519");

    /**
     * The public key of a SubjectPublicKeyInfo, for verifying signatures made with it: decoded by
     * the native provider where it offers the key type and accepts the encoding (its verifier
     * then uses the key as it is, with no translation from another provider's form), else by
     * Bouncy Castle, so that what Bouncy Castle accepts stays accepted. Both check that an EC
     * point lies on its curve. The key's provider says nothing about what was issued: a
     * certificate carries the request's SubjectPublicKeyInfo as it came, and key policy reads it
     * from there.
     *
     * @throws IOException when neither provider can decode the key
     */
    public static PublicKey publicKey(SubjectPublicKeyInfo spki) throws IOException {
        return publicKey(spki, spki.getEncoded());
    }

    /**
     * {@link #publicKey(SubjectPublicKeyInfo)} for a caller that has the key's DER encoding
     * already (an enrollment hashes it too).
     *
     * @param der {@code spki.getEncoded()}
     */
    public static PublicKey publicKey(SubjectPublicKeyInfo spki, byte[] der) throws IOException {
        String algorithm = KEY_ALGORITHMS.get(spki.getAlgorithm().getAlgorithm());
        if (NATIVE != null && algorithm != null && NATIVE.getService("KeyFactory", algorithm) != null) {
            try {
                return KeyFactory.getInstance(algorithm, NATIVE).generatePublic(new X509EncodedKeySpec(der));
            } catch (GeneralSecurityException | RuntimeException e) {
                // Decided by Bouncy Castle below.
            }
        }
        return new JcaPEMKeyConverter().setProvider(BC).getPublicKey(spki);
    }

    /** A description for logs and the health endpoint: which provider does the signature math. */
    public static String describe() {
        return NATIVE != null ? NATIVE.getName() + " " + NATIVE.getVersionStr() + " (native)" : BC.getName() + " " + BC.getVersionStr();
    }

    private static Provider loadNative() {
        String setting = System.getProperty("trent.crypto.native", System.getenv("TRENT_CRYPTO_NATIVE"));
        if (setting != null && setting.trim().toLowerCase(Locale.ROOT).equals("false")) {
            log.info("Signature math: Bouncy Castle (the native provider is turned off by trent.crypto.native=false)");
            return null;
        }
        Provider candidate;
        try {
            AmazonCorrettoCryptoProvider accp = AmazonCorrettoCryptoProvider.INSTANCE;
            Throwable error = accp.getLoadingError();
            if (error != null) {
                log.info("Signature math: Bouncy Castle (the native provider does not load on this platform: {})",
                        error.toString());
                return null;
            }
            candidate = accp;
        } catch (LinkageError | RuntimeException e) {
            log.info("Signature math: Bouncy Castle (the native provider does not load on this platform: {})",
                    e.toString());
            return null;
        }
        try {
            crossCheck(candidate);
        } catch (Exception | LinkageError e) {
            log.warn("Signature math: Bouncy Castle (the native provider failed its cross-check against Bouncy Castle: {})",
                    e.toString());
            return null;
        }
        log.info("Signature math: {} {} (native), cross-checked against Bouncy Castle", candidate.getName(),
                candidate.getVersionStr());
        return candidate;
    }

    /** Each provider verifies what the other signed, for P-256 with keys in Bouncy Castle's form. */
    private static void crossCheck(Provider candidate) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", BC);
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        byte[] message = "Trent cross-check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] fromNative = sign(candidate, keys, message);
        byte[] fromBc = sign(BC, keys, message);
        if (!verify(BC, keys, message, fromNative) || !verify(candidate, keys, message, fromBc)) {
            throw new IllegalStateException("a signature of one provider does not verify with the other");
        }
        // The public key as the native provider decodes it from its encoding (publicKey above).
        KeyPair decoded = new KeyPair(KeyFactory.getInstance("EC", candidate)
                .generatePublic(new X509EncodedKeySpec(keys.getPublic().getEncoded())), keys.getPrivate());
        if (!verify(candidate, decoded, message, fromBc) || !verify(BC, decoded, message, fromNative)) {
            throw new IllegalStateException("a public key decoded by one provider does not verify the other's signature");
        }
        message[0] ^= 1;
        if (verify(candidate, keys, message, fromBc)) {
            throw new IllegalStateException("a signature verifies over a changed message");
        }
    }

    private static byte[] sign(Provider provider, KeyPair keys, byte[] message) throws Exception {
        Signature signature = Signature.getInstance("SHA256withECDSA", provider);
        signature.initSign(keys.getPrivate());
        signature.update(message);
        return signature.sign();
    }

    private static boolean verify(Provider provider, KeyPair keys, byte[] message, byte[] value) throws Exception {
        Signature signature = Signature.getInstance("SHA256withECDSA", provider);
        signature.initVerify(keys.getPublic());
        signature.update(message);
        return signature.verify(value);
    }
}
