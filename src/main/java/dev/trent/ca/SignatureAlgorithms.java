package dev.trent.ca;

import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

/** Picks the signature algorithm that matches an issuer key's strength. */
final class SignatureAlgorithms {

    private SignatureAlgorithms() {
    }

    /**
     * SHA-256 with P-256, SHA-384 with P-384 (RFC 5480 section 4 pairs the hash with the curve).
     *
     * @see <a href="https://www.rfc-editor.org/rfc/rfc5480#section-4">RFC 5480, 4</a>
     */
    static String forKey(PublicKey key) {
        if (key instanceof ECPublicKey ec) {
            int bits = ec.getParams().getCurve().getField().getFieldSize();
            if (bits <= 256) {
                return "SHA256withECDSA";
            }
            return bits <= 384 ? "SHA384withECDSA" : "SHA512withECDSA";
        }
        if (key instanceof RSAPublicKey) {
            return "SHA256withRSA";
        }
        throw new IllegalArgumentException("unsupported issuer key algorithm " + key.getAlgorithm());
    }
}
