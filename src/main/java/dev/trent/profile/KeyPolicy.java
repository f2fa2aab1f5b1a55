package dev.trent.profile;

import java.math.BigInteger;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * Decides whether a subject public key is acceptable under a profile. Pure logic over the
 * SubjectPublicKeyInfo, so that it never depends on which JCA provider parsed the key.
 */
public final class KeyPolicy {

    private static final BigInteger F4 = BigInteger.valueOf(65537);

    private KeyPolicy() {
    }

    /** Outcome of a key check: the key's type, or a refusal that names what is allowed. */
    public record Verdict(KeyType keyType, String refusal) {
        public boolean accepted() {
            return refusal == null;
        }
    }

    /**
     * Classifies the key and checks it against the profile.
     *
     * @param spki      the subject public key info from the CSR
     * @param publicKey the same key as a JCA key (used for RSA modulus and exponent)
     */
    public static Verdict check(CertificateProfile profile, SubjectPublicKeyInfo spki, PublicKey publicKey) {
        ASN1ObjectIdentifier alg = spki.getAlgorithm().getAlgorithm();
        String allowed = " Profile '" + profile.name() + "' allows: " + profile.allowedKeysDescription() + ".";
        KeyType type;
        if (X9ObjectIdentifiers.id_ecPublicKey.equals(alg)) {
            Object params = spki.getAlgorithm().getParameters();
            if (!(params instanceof ASN1ObjectIdentifier curve)) {
                return new Verdict(null, "EC keys must name their curve (explicit curve parameters are refused)." + allowed);
            }
            if (X9ObjectIdentifiers.prime256v1.equals(curve)) {
                type = KeyType.EC_P256;
            } else if (SECObjectIdentifiers.secp384r1.equals(curve)) {
                type = KeyType.EC_P384;
            } else {
                return new Verdict(null, "EC curve " + curveName(curve) + " is not allowed." + allowed);
            }
            if (!(publicKey instanceof ECPublicKey)) {
                return new Verdict(null, "EC public key could not be decoded." + allowed);
            }
        } else if (PKCSObjectIdentifiers.rsaEncryption.equals(alg)) {
            type = KeyType.RSA;
            if (!(publicKey instanceof RSAPublicKey rsa)) {
                return new Verdict(null, "RSA public key could not be decoded." + allowed);
            }
            if (profile.keyTypes().contains(KeyType.RSA)) {
                int bits = rsa.getModulus().bitLength();
                if (bits < profile.rsaMinBits()) {
                    return new Verdict(null, "RSA key of " + bits + " bits is too small." + allowed);
                }
                if (!F4.equals(rsa.getPublicExponent())) {
                    return new Verdict(null, "RSA public exponent must be 65537." + allowed);
                }
            }
        } else if (EdECObjectIdentifiers.id_Ed25519.equals(alg)) {
            type = KeyType.ED25519;
        } else {
            return new Verdict(null, "Key algorithm " + alg.getId() + " is not allowed." + allowed);
        }
        if (!profile.keyTypes().contains(type)) {
            return new Verdict(null, type.displayName() + " keys are not allowed." + allowed);
        }
        return new Verdict(type, null);
    }

    private static String curveName(ASN1ObjectIdentifier curve) {
        String name = org.bouncycastle.asn1.x9.ECNamedCurveTable.getName(curve);
        return name != null ? name + " (" + curve.getId() + ")" : curve.getId();
    }
}
