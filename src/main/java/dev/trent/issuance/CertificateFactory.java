package dev.trent.issuance;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AccessDescription;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.AuthorityInformationAccess;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.DistributionPointName;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;

import dev.trent.ca.Issuer;
import dev.trent.ca.SigningException;
import dev.trent.pki.Asn1Times;
import dev.trent.pki.KeyIds;
import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;

/**
 * Builds an end-entity certificate from a template and signs it through the issuer's
 * {@link dev.trent.ca.CaSigner}. Every certificate carries exactly: subject CN = device id,
 * basicConstraints CA:false, key usage and EKU from the profile, SKI, AKI, a CRL distribution
 * point, an AIA with OCSP and caIssuers as the profile asks, and SANs only when the token granted
 * DNS names.
 */
public final class CertificateFactory {

    private CertificateFactory() {
    }

    public static X500Name subject(String deviceId) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).build();
    }

    public static X509CertificateHolder sign(CertificateTemplate t) {
        return build(builder(t), t.issuer(), "certificate " + t.serial().toString(16));
    }

    /**
     * The DER of the TBSCertificate that {@code t} becomes when signed with an algorithm
     * {@code algorithm}: what is hashed into the reservation and then signed, byte for byte
     * ({@link #signTbs}). Nothing is signed here.
     */
    static byte[] tbs(CertificateTemplate t, AlgorithmIdentifier algorithm) {
        return tbsOf(builder(t), algorithm, "certificate " + t.serial().toString(16));
    }

    /** The TBSCertificate DER {@code b} builds for a signature algorithm {@code algorithm}; nothing signed. */
    private static byte[] tbsOf(X509v3CertificateBuilder b, AlgorithmIdentifier algorithm, String what) {
        ContentSigner standIn = new ContentSigner() {
            @Override
            public AlgorithmIdentifier getAlgorithmIdentifier() {
                return algorithm;
            }

            @Override
            public java.io.OutputStream getOutputStream() {
                return java.io.OutputStream.nullOutputStream();
            }

            @Override
            public byte[] getSignature() {
                return new byte[0];
            }
        };
        try {
            return b.build(standIn).toASN1Structure().getTBSCertificate()
                    .getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER);
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + what, e);
        }
    }

    /**
     * Signs exactly {@code tbs} (from {@link #tbs}, with {@code signer}'s algorithm) and
     * assembles the certificate; a signer that fails while signing issues nothing.
     */
    static X509CertificateHolder signTbs(byte[] tbs, ContentSigner signer, String what) {
        try {
            try (java.io.OutputStream out = signer.getOutputStream()) {
                out.write(tbs);
            }
            byte[] signature = signer.getSignature();
            return new X509CertificateHolder(org.bouncycastle.asn1.x509.Certificate.getInstance(
                    new org.bouncycastle.asn1.DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {
                        org.bouncycastle.asn1.x509.TBSCertificate.getInstance(tbs), signer.getAlgorithmIdentifier(),
                        new org.bouncycastle.asn1.DERBitString(signature)})));
        } catch (org.bouncycastle.operator.RuntimeOperatorException e) {
            throw new SigningException("the CA key could not sign " + what, e);
        } catch (IOException e) {
            throw new IllegalStateException("cannot sign " + what, e);
        }
    }

    /**
     * The most bytes the DER of {@code t}'s certificate can have once signed: the certificate
     * built exactly as {@link #sign} builds it, with a stand-in signature of the largest size
     * the issuer's key can produce (an ECDSA signature's DER length varies by a few bytes). No
     * signature is made.
     */
    public static int maxDerBytes(CertificateTemplate t) {
        AlgorithmIdentifier algorithm = t.issuer().signer().contentSigner().getAlgorithmIdentifier();
        return maxDerBytes(tbs(t, algorithm), algorithm, t.issuer().certificate().getPublicKey());
    }

    /**
     * The most bytes the DER of the certificate signing {@code tbs} can have: the TBS, the
     * algorithm and a signature of the largest size {@code issuerKey} produces (an ECDSA
     * signature's DER length varies by a few bytes), assembled without signing.
     */
    static int maxDerBytes(byte[] tbs, AlgorithmIdentifier algorithm, java.security.PublicKey issuerKey) {
        try {
            return new org.bouncycastle.asn1.DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {
                org.bouncycastle.asn1.x509.TBSCertificate.getInstance(tbs), algorithm,
                new org.bouncycastle.asn1.DERBitString(new byte[maxSignatureBytes(issuerKey)])})
                    .getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER).length;
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a certificate", e);
        }
    }

    /** The longest signature value (the BIT STRING's content) a key of this kind produces. */
    static int maxSignatureBytes(java.security.PublicKey key) {
        if (key instanceof java.security.interfaces.ECPublicKey ec) {
            // ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 2.2.3), each at most
            // the order's length plus a leading zero octet.
            int n = (ec.getParams().getOrder().bitLength() + 7) / 8;
            int content = 2 * (2 + n + 1);
            return content + (content < 128 ? 2 : 3);
        }
        if (key instanceof java.security.interfaces.RSAPublicKey rsa) {
            return (rsa.getModulus().bitLength() + 7) / 8;
        }
        if ("Ed448".equalsIgnoreCase(key.getAlgorithm())) {
            return 114;
        }
        return 64; // Ed25519 (RFC 8410)
    }

    private static X509v3CertificateBuilder builder(CertificateTemplate t) {
        Issuer issuer = t.issuer();
        try {
            X509v3CertificateBuilder b = endEntity(issuer, t.serial(), t.deviceId(), t.publicKey(), t.notBefore(),
                    t.notAfter(), keyUsageBits(t), extendedKeyUsage(t));
            if (!t.dnsNames().isEmpty()) {
                GeneralName[] names = t.dnsNames().stream()
                        .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new);
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            addStatusPointers(b, issuer, t.profile().ocspUrl(), t.profile().caIssuersUrl());
            return b;
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot build certificate " + t.serial().toString(16), e);
        }
    }

    /**
     * The TBS of a delegated OCSP responder certificate, for {@link #signTbs}; see
     * {@code IssuanceService.issueOcspResponder}.
     */
    static byte[] ocspResponderTbs(Issuer issuer, java.math.BigInteger serial, String name,
            org.bouncycastle.asn1.x509.SubjectPublicKeyInfo key, java.time.Instant notBefore,
            java.time.Instant notAfter, AlgorithmIdentifier algorithm) {
        try {
            X509v3CertificateBuilder b = endEntity(issuer, serial, name, key, notBefore, notAfter,
                    KeyUsage.digitalSignature, new ExtendedKeyUsage(KeyPurposeId.id_kp_OCSPSigning));
            b.addExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nocheck, false,
                    org.bouncycastle.asn1.DERNull.INSTANCE);
            return tbsOf(b, algorithm, "the OCSP responder certificate");
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the OCSP responder certificate", e);
        }
    }

    /**
     * What every end-entity certificate Trent signs starts with: the issuer's name, the
     * validity, CN = {@code name}, basicConstraints CA:false (critical), keyUsage (critical),
     * extendedKeyUsage, subjectKeyIdentifier and authorityKeyIdentifier.
     */
    private static X509v3CertificateBuilder endEntity(Issuer issuer, java.math.BigInteger serial, String name,
            org.bouncycastle.asn1.x509.SubjectPublicKeyInfo key, java.time.Instant notBefore, java.time.Instant notAfter,
            int keyUsage, ExtendedKeyUsage extendedKeyUsage) throws IOException, java.security.GeneralSecurityException {
        X509Certificate issuerCert = issuer.certificate();
        X509v3CertificateBuilder b = new X509v3CertificateBuilder(
                org.bouncycastle.asn1.x500.X500Name.getInstance(issuerCert.getSubjectX500Principal().getEncoded()),
                serial, Asn1Times.time(notBefore), Asn1Times.time(notAfter), subject(name), key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
        b.addExtension(Extension.extendedKeyUsage, false, extendedKeyUsage);
        b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key));
        b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(KeyIds.subjectKeyId(issuerCert)));
        return b;
    }

    /**
     * Where relying parties learn the certificate's status and issuer: the issuer's CRL
     * distribution point always, and in the AIA the OCSP responder and the issuer certificate's
     * URL when asked for (no AIA when neither is).
     */
    private static void addStatusPointers(X509v3CertificateBuilder b, Issuer issuer, boolean ocsp, boolean caIssuers)
            throws IOException {
        DistributionPoint cdp = new DistributionPoint(new DistributionPointName(new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, issuer.crlUrl().toString()))), null, null);
        b.addExtension(Extension.cRLDistributionPoints, false, new CRLDistPoint(new DistributionPoint[] {cdp}));
        List<AccessDescription> access = new java.util.ArrayList<>(2);
        if (ocsp) {
            access.add(new AccessDescription(AccessDescription.id_ad_ocsp,
                    new GeneralName(GeneralName.uniformResourceIdentifier, issuer.ocspUrl().toString())));
        }
        if (caIssuers) {
            access.add(new AccessDescription(AccessDescription.id_ad_caIssuers,
                    new GeneralName(GeneralName.uniformResourceIdentifier, issuer.caIssuersUrl().toString())));
        }
        if (!access.isEmpty()) {
            b.addExtension(Extension.authorityInfoAccess, false,
                    new AuthorityInformationAccess(access.toArray(AccessDescription[]::new)));
        }
    }

    /** Signs with the issuer's key; a signer that fails while signing (a keystore or HSM fault) issues nothing. */
    private static X509CertificateHolder build(X509v3CertificateBuilder b, Issuer issuer, String what) {
        try {
            return b.build(issuer.signer().contentSigner());
        } catch (org.bouncycastle.operator.RuntimeOperatorException e) {
            throw new SigningException("the CA key could not sign " + what, e);
        }
    }

    /**
     * The TBS of Trent's own TLS server certificate, for {@link #signTbs} (see
     * {@code IssuanceService.issueTlsServer}): CN = the
     * first name, keyUsage digitalSignature (critical), EKU serverAuth, SANs with the DNS names
     * and IP addresses, SKI, AKI, and the CDP and AIA every certificate of this issuer carries.
     */
    static byte[] tlsServerTbs(Issuer issuer, java.math.BigInteger serial, String name,
            org.bouncycastle.asn1.x509.SubjectPublicKeyInfo key, List<String> dnsNames, List<String> ipAddresses,
            java.time.Instant notBefore, java.time.Instant notAfter, AlgorithmIdentifier algorithm) {
        try {
            X509v3CertificateBuilder b = endEntity(issuer, serial, name, key, notBefore, notAfter,
                    KeyUsage.digitalSignature, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            List<GeneralName> names = new java.util.ArrayList<>();
            for (String d : dnsNames) {
                names.add(new GeneralName(GeneralName.dNSName, d));
            }
            for (String ip : ipAddresses) {
                names.add(new GeneralName(GeneralName.iPAddress, ip));
            }
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            addStatusPointers(b, issuer, true, true);
            return tbsOf(b, algorithm, "the TLS server certificate");
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot build the TLS server certificate", e);
        }
    }

    /**
     * Profile bits for EC and Ed25519 keys. RSA subject keys also get keyEncipherment, which TLS
     * 1.2 RSA key exchange needs (RFC 5246 7.4.2); EC keys never do (RFC 8813 section 3).
     */
    static int keyUsageBits(CertificateTemplate t) {
        int bits = 0;
        for (KeyUsageName u : t.profile().keyUsage()) {
            bits |= u.bit();
        }
        if (t.keyType() == KeyType.RSA) {
            bits |= KeyUsage.keyEncipherment;
        }
        return bits;
    }

    private static ExtendedKeyUsage extendedKeyUsage(CertificateTemplate t) {
        KeyPurposeId[] ids = t.profile().extendedKeyUsage().stream()
                .map(ExtendedKeyUsageName::oid)
                .map(oid -> KeyPurposeId.getInstance(new ASN1ObjectIdentifier(oid)))
                .toArray(KeyPurposeId[]::new);
        return new ExtendedKeyUsage(ids);
    }

}
