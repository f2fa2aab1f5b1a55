package dev.trent.ca;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.List;

import org.bouncycastle.operator.ContentSigner;
import org.slf4j.LoggerFactory;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.trent.pki.Providers;

/** {@link CaSigner} over a private key loaded from a PKCS#12 keystore, signing with Bouncy Castle. */
public final class KeystoreCaSigner implements CaSigner, KeyStatus {

    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;
    private final String signatureAlgorithm;
    private final String keyReference;

    public KeystoreCaSigner(PrivateKey privateKey, List<X509Certificate> chain) {
        this(privateKey, chain, null);
    }

    /** @param keyReference where the key was read from, e.g. {@code keystore:/path/intermediate.p12#trent-ca} */
    public KeystoreCaSigner(PrivateKey privateKey, List<X509Certificate> chain, String keyReference) {
        this.keyReference = keyReference;
        this.privateKey = asProviderKey(privateKey);
        this.chain = List.copyOf(chain);
        this.signatureAlgorithm = SignatureAlgorithms.forKey(chain.get(0).getPublicKey());
    }

    /**
     * The keystore hands back a JDK (SunEC) key object; Bouncy Castle would convert it, and
     * rebuild its fixed-point precomputation for it, at every signature (about a third of the
     * signing rate; see bench/README.md). Converting once to Bouncy Castle's own key keeps that
     * work to the first signature.
     */
    private static PrivateKey asProviderKey(PrivateKey key) {
        byte[] pkcs8 = key.getEncoded();
        if (pkcs8 == null || !"PKCS#8".equals(key.getFormat())) {
            return key;
        }
        try {
            return KeyFactory.getInstance(key.getAlgorithm(), Providers.BC)
                    .generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        } catch (GeneralSecurityException e) {
            LoggerFactory.getLogger(KeystoreCaSigner.class).warn("CA key stays a {} key object ({}); signing will "
                    + "be slower", key.getClass().getName(), e.toString());
            return key;
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    @Override
    public String keyReference() {
        return keyReference;
    }

    @Override
    public String describe() {
        return "software key (PKCS#12 keystore)";
    }

    @Override
    public List<X509Certificate> chain() {
        return chain;
    }

    @Override
    public ContentSigner contentSigner() {
        try {
            return new JcaContentSignerBuilder(signatureAlgorithm).setProvider(Providers.signatures(signatureAlgorithm)).build(privateKey);
        } catch (OperatorCreationException e) {
            throw new SigningException("issuer key cannot sign with " + signatureAlgorithm, e);
        }
    }
}
