package dev.trent.issuance;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERSequence;
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
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.asn1.x509.V3TBSCertificateGenerator;
import org.bouncycastle.cert.X509CertificateHolder;
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
 *
 * <p>The TBSCertificate is assembled with Bouncy Castle's {@link V3TBSCertificateGenerator} from
 * parts that are the same for every certificate of an issuer (its name, the AKI, CDP and AIA
 * extensions), made once per {@link Issuer} instance: Bouncy Castle's
 * {@code X509v3CertificateBuilder} re-encoded them, built a whole certificate around a stand-in
 * signature and encoded the TBS twice per issuance (about 12% of an enrollment's request-thread
 * samples in a JFR profile). {@code CertificateFactoryTest} pins the DER, byte for byte, to what
 * that builder produces.
 */
public final class CertificateFactory {

    /** The TBSCertificate to sign and its DER encoding (the encoding of exactly that structure). */
    public record Tbs(TBSCertificate structure, byte[] der) {
    }

    /** What every certificate of one issuer carries the same: made once per issuer instance. */
    private record IssuerParts(X500Name name, Extension authorityKeyId, Extension crlDistributionPoint,
            Extension aiaOcsp, Extension aiaCaIssuers, Extension aiaBoth) {

        static IssuerParts of(Issuer issuer) {
            X509Certificate cert = issuer.certificate();
            GeneralName ocsp = new GeneralName(GeneralName.uniformResourceIdentifier, issuer.ocspUrl().toString());
            GeneralName caIssuers = new GeneralName(GeneralName.uniformResourceIdentifier,
                    issuer.caIssuersUrl().toString());
            AccessDescription ocspAccess = new AccessDescription(AccessDescription.id_ad_ocsp, ocsp);
            AccessDescription caIssuersAccess = new AccessDescription(AccessDescription.id_ad_caIssuers, caIssuers);
            DistributionPoint cdp = new DistributionPoint(new DistributionPointName(new GeneralNames(
                    new GeneralName(GeneralName.uniformResourceIdentifier, issuer.crlUrl().toString()))), null, null);
            return new IssuerParts(X500Name.getInstance(cert.getSubjectX500Principal().getEncoded()),
                    extension(Extension.authorityKeyIdentifier, false, new AuthorityKeyIdentifier(KeyIds.subjectKeyId(cert))),
                    extension(Extension.cRLDistributionPoints, false, new CRLDistPoint(new DistributionPoint[] {cdp})),
                    extension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(ocspAccess)),
                    extension(Extension.authorityInfoAccess, false, new AuthorityInformationAccess(caIssuersAccess)),
                    extension(Extension.authorityInfoAccess, false,
                            new AuthorityInformationAccess(new AccessDescription[] {ocspAccess, caIssuersAccess})));
        }

        /** The AIA for these pointers; null when neither is asked for (no AIA then). */
        Extension aia(boolean withOcsp, boolean withCaIssuers) {
            return withOcsp ? (withCaIssuers ? aiaBoth : aiaOcsp) : (withCaIssuers ? aiaCaIssuers : null);
        }
    }

    /** Weak keys compare by identity: an issuer refreshed by the registry is a new instance, with new parts. */
    private static final Cache<Issuer, IssuerParts> ISSUER_PARTS = Caffeine.newBuilder().weakKeys().build();

    private static final Extension NOT_A_CA = extension(Extension.basicConstraints, true, new BasicConstraints(false));

    private CertificateFactory() {
    }

    public static X500Name subject(String deviceId) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, deviceId).build();
    }

    /** Builds and signs {@code t} with its issuer's signer, as issuance does (tests and size bounds). */
    public static X509CertificateHolder sign(CertificateTemplate t) {
        ContentSigner signer = t.issuer().signer().contentSigner();
        return signTbs(tbs(t, signer.getAlgorithmIdentifier()), signer, "certificate " + t.serial().toString(16));
    }

    /**
     * The TBSCertificate that {@code t} becomes when signed with an algorithm {@code algorithm}:
     * what is hashed into the reservation and then signed, byte for byte ({@link #signTbs}).
     * Nothing is signed here.
     */
    static Tbs tbs(CertificateTemplate t, AlgorithmIdentifier algorithm) {
        IssuerParts issuer = parts(t.issuer());
        List<Extension> extensions = endEntity(issuer, t.publicKey(), keyUsageBits(t), extendedKeyUsage(t));
        if (!t.dnsNames().isEmpty()) {
            GeneralName[] names = new GeneralName[t.dnsNames().size()];
            for (int n = 0; n < names.length; n++) {
                names[n] = new GeneralName(GeneralName.dNSName, t.dnsNames().get(n));
            }
            extensions.add(extension(Extension.subjectAlternativeName, false, new GeneralNames(names)));
        }
        addStatusPointers(extensions, issuer, t.profile().ocspUrl(), t.profile().caIssuersUrl());
        return assemble(issuer, t.serial(), t.deviceId(), t.publicKey(), t.notBefore(), t.notAfter(), algorithm,
                extensions);
    }

    /**
     * Signs exactly {@code tbs} (from {@link #tbs}, with {@code signer}'s algorithm) and
     * assembles the certificate; a signer that fails while signing issues nothing.
     */
    static X509CertificateHolder signTbs(Tbs tbs, ContentSigner signer, String what) {
        try {
            try (java.io.OutputStream out = signer.getOutputStream()) {
                out.write(tbs.der());
            }
            byte[] signature = signer.getSignature();
            return new X509CertificateHolder(org.bouncycastle.asn1.x509.Certificate.getInstance(
                    new DERSequence(new ASN1Encodable[] {tbs.structure(), signer.getAlgorithmIdentifier(),
                        new DERBitString(signature)})));
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
    static int maxDerBytes(Tbs tbs, AlgorithmIdentifier algorithm, java.security.PublicKey issuerKey) {
        try {
            return new DERSequence(new ASN1Encodable[] {tbs.structure(), algorithm,
                new DERBitString(new byte[maxSignatureBytes(issuerKey)])}).getEncoded(ASN1Encoding.DER).length;
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

    /**
     * The TBS of a delegated OCSP responder certificate, for {@link #signTbs}; see
     * {@code IssuanceService.issueOcspResponder}.
     */
    static Tbs ocspResponderTbs(Issuer issuer, java.math.BigInteger serial, String name, SubjectPublicKeyInfo key,
            java.time.Instant notBefore, java.time.Instant notAfter, AlgorithmIdentifier algorithm) {
        IssuerParts parts = parts(issuer);
        List<Extension> extensions = endEntity(parts, key, KeyUsage.digitalSignature,
                new ExtendedKeyUsage(KeyPurposeId.id_kp_OCSPSigning));
        extensions.add(extension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nocheck, false,
                org.bouncycastle.asn1.DERNull.INSTANCE));
        return assemble(parts, serial, name, key, notBefore, notAfter, algorithm, extensions);
    }

    /**
     * The TBS of Trent's own TLS server certificate, for {@link #signTbs} (see
     * {@code IssuanceService.issueTlsServer}): CN = the
     * first name, keyUsage digitalSignature (critical), EKU serverAuth, SANs with the DNS names
     * and IP addresses, SKI, AKI, and the CDP and AIA every certificate of this issuer carries.
     */
    static Tbs tlsServerTbs(Issuer issuer, java.math.BigInteger serial, String name, SubjectPublicKeyInfo key,
            List<String> dnsNames, List<String> ipAddresses, java.time.Instant notBefore, java.time.Instant notAfter,
            AlgorithmIdentifier algorithm) {
        IssuerParts parts = parts(issuer);
        List<Extension> extensions = endEntity(parts, key, KeyUsage.digitalSignature,
                new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        List<GeneralName> names = new ArrayList<>();
        for (String d : dnsNames) {
            names.add(new GeneralName(GeneralName.dNSName, d));
        }
        for (String ip : ipAddresses) {
            names.add(new GeneralName(GeneralName.iPAddress, ip));
        }
        extensions.add(extension(Extension.subjectAlternativeName, false,
                new GeneralNames(names.toArray(GeneralName[]::new))));
        addStatusPointers(extensions, parts, true, true);
        return assemble(parts, serial, name, key, notBefore, notAfter, algorithm, extensions);
    }

    private static IssuerParts parts(Issuer issuer) {
        return ISSUER_PARTS.get(issuer, IssuerParts::of);
    }

    /**
     * The extensions every end-entity certificate Trent signs starts with: basicConstraints
     * CA:false (critical), keyUsage (critical), extendedKeyUsage, subjectKeyIdentifier and
     * authorityKeyIdentifier, in this order.
     */
    private static List<Extension> endEntity(IssuerParts issuer, SubjectPublicKeyInfo key, int keyUsage,
            ExtendedKeyUsage extendedKeyUsage) {
        List<Extension> extensions = new ArrayList<>(9);
        extensions.add(NOT_A_CA);
        extensions.add(extension(Extension.keyUsage, true, new KeyUsage(keyUsage)));
        extensions.add(extension(Extension.extendedKeyUsage, false, extendedKeyUsage));
        extensions.add(extension(Extension.subjectKeyIdentifier, false,
                new SubjectKeyIdentifier(KeyIds.method1(key))));
        extensions.add(issuer.authorityKeyId());
        return extensions;
    }

    /**
     * Where relying parties learn the certificate's status and issuer: the issuer's CRL
     * distribution point always, and in the AIA the OCSP responder and the issuer certificate's
     * URL when asked for (no AIA when neither is).
     */
    private static void addStatusPointers(List<Extension> extensions, IssuerParts issuer, boolean ocsp,
            boolean caIssuers) {
        extensions.add(issuer.crlDistributionPoint());
        Extension aia = issuer.aia(ocsp, caIssuers);
        if (aia != null) {
            extensions.add(aia);
        }
    }

    /** The TBSCertificate (v3) with the issuer's name, the validity, CN = {@code name}, and the extensions. */
    private static Tbs assemble(IssuerParts issuer, java.math.BigInteger serial, String name, SubjectPublicKeyInfo key,
            java.time.Instant notBefore, java.time.Instant notAfter, AlgorithmIdentifier algorithm,
            List<Extension> extensions) {
        V3TBSCertificateGenerator g = new V3TBSCertificateGenerator();
        g.setSerialNumber(new ASN1Integer(serial));
        g.setSignature(algorithm);
        g.setIssuer(issuer.name());
        g.setStartDate(Asn1Times.time(notBefore));
        g.setEndDate(Asn1Times.time(notAfter));
        g.setSubject(subject(name));
        g.setSubjectPublicKeyInfo(key);
        g.setExtensions(new Extensions(extensions.toArray(Extension[]::new)));
        TBSCertificate tbs = g.generateTBSCertificate();
        try {
            return new Tbs(tbs, tbs.getEncoded(ASN1Encoding.DER));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode certificate " + serial.toString(16), e);
        }
    }

    private static Extension extension(ASN1ObjectIdentifier oid, boolean critical, ASN1Encodable value) {
        try {
            return new Extension(oid, critical, value.toASN1Primitive().getEncoded(ASN1Encoding.DER));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode extension " + oid, e);
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
