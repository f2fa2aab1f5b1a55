package dev.trent.issuance;

import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

import dev.trent.ca.Issuer;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyType;

/**
 * Everything that decides a certificate's content, fixed before anything is signed. Built
 * from the enrollment token and the profile; the CSR contributes only its public key.
 */
public record CertificateTemplate(
        Issuer issuer,
        CertificateProfile profile,
        BigInteger serial,
        String deviceId,
        List<String> dnsNames,
        SubjectPublicKeyInfo publicKey,
        KeyType keyType,
        Instant notBefore,
        Instant notAfter) {

    public CertificateTemplate {
        dnsNames = List.copyOf(dnsNames);
    }
}
