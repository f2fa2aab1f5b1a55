package dev.trent.profile;

/**
 * Subject public key types that a profile may allow. Names are the configuration values.
 */
public enum KeyType {
    /** ECDSA on NIST P-256 (secp256r1), the default for devices. */
    EC_P256("EC P-256"),
    /** ECDSA on NIST P-384 (secp384r1). */
    EC_P384("EC P-384"),
    /** RSA, at least the profile's minimum modulus size and exponent 65537. */
    RSA("RSA"),
    /** Ed25519 (RFC 8410); off in the default profiles because common device TLS stacks lack it. */
    ED25519("Ed25519");

    private final String displayName;

    KeyType(String displayName) {
        this.displayName = displayName;
    }

    /**
     * Whether a certificate for this kind of key may assert the key usage: EC keys sign or
     * agree keys but never encipher (RFC 5480 section 3); Ed25519 keys only sign (RFC 8410
     * section 5); RSA keys sign or encipher but do not agree keys (RFC 3279 section 2.3.1).
     */
    public boolean permits(KeyUsageName usage) {
        return switch (this) {
            case EC_P256, EC_P384 -> usage == KeyUsageName.digitalSignature || usage == KeyUsageName.nonRepudiation
                    || usage == KeyUsageName.keyAgreement;
            case ED25519 -> usage == KeyUsageName.digitalSignature || usage == KeyUsageName.nonRepudiation;
            case RSA -> usage != KeyUsageName.keyAgreement;
        };
    }

    public String displayName() {
        return displayName;
    }
}
