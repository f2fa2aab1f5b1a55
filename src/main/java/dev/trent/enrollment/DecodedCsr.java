package dev.trent.enrollment;

import java.security.PublicKey;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

/**
 * A PKCS#10 request that parsed. Its signature is checked separately
 * ({@link CsrDecoder#verifyProofOfPossession}) once the key type is known to be acceptable.
 *
 * @param request         the parsed request
 * @param publicKeyInfo   its SubjectPublicKeyInfo
 * @param publicKey       the same key as a JCA key
 * @param publicKeySha256 hex SHA-256 of the SubjectPublicKeyInfo DER, the key's identity
 */
public record DecodedCsr(PKCS10CertificationRequest request, SubjectPublicKeyInfo publicKeyInfo,
        PublicKey publicKey, String publicKeySha256) {
}
