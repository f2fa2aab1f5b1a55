package dev.trent.ca;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.trent.pki.Providers;

/** {@link CaSigner} over a private key loaded from a PKCS#12 keystore, signing with Bouncy Castle. */
public final class KeystoreCaSigner implements CaSigner {

    private final PrivateKey privateKey;
    private final List<X509Certificate> chain;
    private final String signatureAlgorithm;

    public KeystoreCaSigner(PrivateKey privateKey, List<X509Certificate> chain) {
        this.privateKey = privateKey;
        this.chain = List.copyOf(chain);
        this.signatureAlgorithm = SignatureAlgorithms.forKey(chain.get(0).getPublicKey());
    }

    @Override
    public List<X509Certificate> chain() {
        return chain;
    }

    @Override
    public ContentSigner contentSigner() {
        try {
            return new JcaContentSignerBuilder(signatureAlgorithm).setProvider(Providers.BC).build(privateKey);
        } catch (OperatorCreationException e) {
            throw new SigningException("issuer key cannot sign with " + signatureAlgorithm, e);
        }
    }
}
