package dev.trent.issuance;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AccessDescription;
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
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

import dev.trent.ca.Issuer;
import dev.trent.ca.SigningException;
import dev.trent.pki.KeyIds;
import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;

/**
 * Builds an end-entity certificate from a template and signs it through the issuer's
 * {@link dev.trent.ca.CaSigner}. Every certificate carries exactly: subject CN = device id,
 * basicConstraints CA:false, key usage and EKU from the profile, SKI, AKI, a CRL distribution
 * point, an AIA with OCSP and caIssuers, and SANs only when the token granted DNS names.
 */
public final class CertificateFactory {

    private CertificateFactory() {
    }

    public static X500Name subject(String deviceId) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).build();
    }

    public static X509CertificateHolder sign(CertificateTemplate t) {
        Issuer issuer = t.issuer();
        try {
            X509v3CertificateBuilder b = endEntity(issuer, t.serial(), t.deviceId(), t.publicKey(), t.notBefore(),
                    t.notAfter(), keyUsageBits(t), extendedKeyUsage(t));
            if (!t.dnsNames().isEmpty()) {
                GeneralName[] names = t.dnsNames().stream()
                        .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new);
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            addStatusPointers(b, issuer);
            return build(b, issuer, "certificate " + t.serial().toString(16));
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot build certificate " + t.serial().toString(16), e);
        }
    }

    /** A delegated OCSP responder certificate; see {@code IssuanceService.issueOcspResponder}. */
    static X509CertificateHolder signOcspResponder(Issuer issuer, java.math.BigInteger serial, String name,
            org.bouncycastle.asn1.x509.SubjectPublicKeyInfo key, java.time.Instant notBefore,
            java.time.Instant notAfter) {
        try {
            X509v3CertificateBuilder b = endEntity(issuer, serial, name, key, notBefore, notAfter,
                    KeyUsage.digitalSignature, new ExtendedKeyUsage(KeyPurposeId.id_kp_OCSPSigning));
            b.addExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nocheck, false,
                    org.bouncycastle.asn1.DERNull.INSTANCE);
            return build(b, issuer, "the OCSP responder certificate");
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
        X509v3CertificateBuilder b = new X509v3CertificateBuilder(new JcaX509CertificateHolder(issuerCert).getSubject(),
                serial, Date.from(notBefore), Date.from(notAfter), subject(name), key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
        b.addExtension(Extension.extendedKeyUsage, false, extendedKeyUsage);
        b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key));
        b.addExtension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(KeyIds.subjectKeyId(issuerCert)));
        return b;
    }

    /** Where relying parties learn the certificate's status: the issuer's CDP, OCSP and caIssuers URLs. */
    private static void addStatusPointers(X509v3CertificateBuilder b, Issuer issuer) throws IOException {
        DistributionPoint cdp = new DistributionPoint(new DistributionPointName(new GeneralNames(
                new GeneralName(GeneralName.uniformResourceIdentifier, issuer.crlUrl().toString()))), null, null);
        b.addExtension(Extension.cRLDistributionPoints, false, new CRLDistPoint(new DistributionPoint[] {cdp}));
        b.addExtension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(new AccessDescription[] {
            new AccessDescription(AccessDescription.id_ad_ocsp,
                    new GeneralName(GeneralName.uniformResourceIdentifier, issuer.ocspUrl().toString())),
            new AccessDescription(AccessDescription.id_ad_caIssuers,
                    new GeneralName(GeneralName.uniformResourceIdentifier, issuer.caIssuersUrl().toString()))
        }));
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
     * Trent's own TLS server certificate (see {@code IssuanceService.issueTlsServer}): CN = the
     * first name, keyUsage digitalSignature (critical), EKU serverAuth, SANs with the DNS names
     * and IP addresses, SKI, AKI, and the CDP and AIA every certificate of this issuer carries.
     */
    static X509CertificateHolder signTlsServer(Issuer issuer, java.math.BigInteger serial, String name,
            org.bouncycastle.asn1.x509.SubjectPublicKeyInfo key, List<String> dnsNames, List<String> ipAddresses,
            java.time.Instant notBefore, java.time.Instant notAfter) {
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
            addStatusPointers(b, issuer);
            return build(b, issuer, "the TLS server certificate");
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
