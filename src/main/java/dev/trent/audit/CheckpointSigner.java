package dev.trent.audit;

import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The CA keys as the audit log needs them (implemented in the ca package): the roots that
 * checkpoint signatures are verified against, and a signature by the active issuer's key.
 */
public interface CheckpointSigner {

    /** The root of every issuer's chain, from the CA's key containers (not from the database). */
    List<X509Certificate> roots();

    /**
     * Signs {@code message} with the active issuer's key.
     *
     * @throws dev.trent.domain.UnavailableException when the key cannot sign
     */
    Signature sign(byte[] message);

    /** A signature, the issuer whose key made it, and that issuer's certificate (DER). */
    record Signature(String issuerId, String algorithmOid, byte[] value, byte[] signerCertificate) {
    }
}
