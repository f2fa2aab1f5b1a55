package dev.trent.pki;

import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/** Key identifiers (RFC 5280 sections 4.2.1.1 and 4.2.1.2). */
public final class KeyIds {

    private KeyIds() {
    }

    /**
     * RFC 5280 4.2.1.2 method 1: the SHA-1 of the subjectPublicKey BIT STRING's value (what Bouncy
     * Castle's {@code JcaX509ExtensionUtils.createSubjectKeyIdentifier} computes).
     */
    public static byte[] method1(org.bouncycastle.asn1.x509.SubjectPublicKeyInfo key) {
        try {
            return java.security.MessageDigest.getInstance("SHA-1").digest(key.getPublicKeyData().getBytes());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JRE", e);
        }
    }

    /**
     * The certificate's subjectKeyIdentifier as it stands in the certificate (so that an AKI
     * copied from it matches byte for byte), or the RFC 5280 method-1 key id when absent.
     */
    public static byte[] subjectKeyId(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ext != null) {
            return SubjectKeyIdentifier.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getKeyIdentifier();
        }
        try {
            return new JcaX509ExtensionUtils().createSubjectKeyIdentifier(cert.getPublicKey()).getKeyIdentifier();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is missing from this JRE", e);
        }
    }
}
