package dev.trent.issuance;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.TBSCertificate;

import dev.trent.ca.Issuer;
import dev.trent.pki.Asn1Times;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;

/**
 * Lints the exact TBSCertificate that will be signed (Boulder's "lint before you sign", on the
 * bytes, not on a template): every certificate Trent signs, device, TLS server and OCSP
 * responder alike. A failure here is a bug or a misconfiguration, never the device's fault, so
 * nothing is reserved or signed and the request fails as a server error.
 */
public final class PreSigningLinter {

    /** The TBS broke a rule that every Trent certificate must follow. */
    public static final class LintException extends RuntimeException {
        LintException(String message) {
            super(message);
        }
    }

    /** What kind of certificate the TBS must be. */
    public enum Kind {
        /** A device certificate of a profile. */
        DEVICE,
        /** Trent's own TLS server certificate. */
        TLS_SERVER,
        /** A delegated OCSP responder certificate (RFC 6960 4.2.2.2). */
        OCSP_RESPONDER
    }

    /**
     * What the TBS must agree with.
     *
     * @param algorithm the signer's signature algorithm (the TBS's {@code signature} field must be it)
     * @param profile   the device profile; null for Trent's own certificates
     * @param keyType   the subject key's type as key policy accepted it; null for Trent's own certificates
     */
    public record Rules(Kind kind, Issuer issuer, AlgorithmIdentifier algorithm, CertificateProfile profile,
            KeyType keyType) {
    }

    private PreSigningLinter() {
    }

    /** Lints {@code tbs} (DER) against {@code rules}. */
    public static void lint(byte[] tbs, Rules rules) {
        List<String> problems = new ArrayList<>();
        TBSCertificate t;
        try {
            t = TBSCertificate.getInstance(tbs);
        } catch (RuntimeException e) {
            throw new LintException("pre-signing lint failed: the TBSCertificate cannot be parsed");
        }
        Issuer issuer = rules.issuer();
        if (t.getVersionNumber() != 3) {
            problems.add("version must be v3 (RFC 5280 4.1.2.1)");
        }
        BigInteger serial = t.getSerialNumber().getValue();
        if (serial.signum() <= 0) {
            problems.add("serial must be positive (RFC 5280 4.1.2.2)");
        }
        if (serial.toByteArray().length > 20) {
            problems.add("serial must fit in 20 octets (RFC 5280 4.1.2.2)");
        }
        if (!t.getSignature().equals(rules.algorithm())) {
            problems.add("signature algorithm differs from the signer's (RFC 5280 4.1.2.3)");
        }
        if (!Arrays.equals(der(t.getIssuer()), issuer.certificate().getSubjectX500Principal().getEncoded())) {
            problems.add("issuer name differs from the issuer certificate's subject (RFC 5280 4.1.2.4)");
        }
        Instant notBefore;
        Instant notAfter;
        try {
            notBefore = Asn1Times.instant(t.getStartDate());
            notAfter = Asn1Times.instant(t.getEndDate());
        } catch (IllegalArgumentException e) {
            problems.add("validity times must be UTCTime to 2049 and GeneralizedTime from 2050, in UTC with seconds "
                    + "(RFC 5280 4.1.2.5): " + e.getMessage());
            fail(problems);
            return;
        }
        if (!notBefore.isBefore(notAfter)) {
            problems.add("notBefore must precede notAfter");
        }
        if (notAfter.isAfter(issuer.certificate().getNotAfter().toInstant())) {
            problems.add("certificate would outlive its issuer");
        }
        if (notBefore.isBefore(issuer.certificate().getNotBefore().toInstant())) {
            problems.add("certificate would begin before its issuer");
        }
        String cn = commonName(t.getSubject());
        if (cn == null || cn.isEmpty()) {
            problems.add("subject must carry one commonName");
        } else if (cn.length() > 64 && rules.kind() != Kind.TLS_SERVER) {
            // Not for Trent's TLS certificate: its CN is the first configured DNS name, which was
            // never limited (the SANs are what clients check, RFC 6125).
            problems.add("commonName must be 1 to 64 characters (RFC 5280 ub-common-name)");
        }
        if (Arrays.equals(der(t.getSubjectPublicKeyInfo()), issuer.certificate().getPublicKey().getEncoded())) {
            problems.add("subject key is the issuer's own key");
        }
        Extensions ext = t.getExtensions();
        if (ext == null) {
            problems.add("extensions missing");
            fail(problems);
            return;
        }
        Extension bc = ext.getExtension(Extension.basicConstraints);
        if (bc == null || !bc.isCritical() || BasicConstraints.getInstance(bc.getParsedValue()).isCA()) {
            problems.add("basicConstraints must be critical with cA false");
        }
        Extension ku = ext.getExtension(Extension.keyUsage);
        if (ku == null || !ku.isCritical()) {
            problems.add("keyUsage must be present and critical");
        }
        if (ext.getExtension(Extension.subjectKeyIdentifier) == null
                || ext.getExtension(Extension.authorityKeyIdentifier) == null) {
            problems.add("subjectKeyIdentifier and authorityKeyIdentifier must be present (RFC 5280 4.2.1.1, 4.2.1.2)");
        }
        Set<String> ekus = ekus(ext);
        List<String> dnsNames = new ArrayList<>();
        int ipAddresses = 0;
        GeneralNames san = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
        if (san != null) {
            for (GeneralName n : san.getNames()) {
                if (n.getTagNo() == GeneralName.dNSName) {
                    dnsNames.add(n.getName().toString());
                } else if (n.getTagNo() == GeneralName.iPAddress) {
                    ipAddresses++;
                } else {
                    problems.add("subjectAltName may hold DNS names and IP addresses only");
                }
            }
        }
        for (String name : dnsNames) {
            if (!DnsNames.isValid(name)) {
                problems.add("invalid DNS name " + name);
            }
        }
        switch (rules.kind()) {
            case DEVICE -> device(problems, rules, ku, ekus, dnsNames, ipAddresses);
            case TLS_SERVER -> {
                if (dnsNames.isEmpty() && ipAddresses == 0) {
                    problems.add("a TLS server certificate needs at least one DNS name or IP address");
                }
                if (!ekus.equals(Set.of(oid(KeyPurposeId.id_kp_serverAuth)))) {
                    problems.add("a TLS server certificate's EKU must be serverAuth");
                }
            }
            case OCSP_RESPONDER -> {
                // RFC 6960 4.2.2.2: id-kp-OCSPSigning; 4.2.2.2.1: id-pkix-ocsp-nocheck.
                if (!ekus.equals(Set.of(oid(KeyPurposeId.id_kp_OCSPSigning)))) {
                    problems.add("an OCSP responder certificate's EKU must be id-kp-OCSPSigning (RFC 6960 4.2.2.2)");
                }
                if (ext.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nocheck) == null) {
                    problems.add("an OCSP responder certificate needs id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1)");
                }
                if (ku != null && !KeyUsage.getInstance(ku.getParsedValue()).hasUsages(KeyUsage.digitalSignature)) {
                    problems.add("an OCSP responder certificate's keyUsage must allow digitalSignature");
                }
                if (san != null) {
                    problems.add("an OCSP responder certificate carries no subjectAltName");
                }
                if (ext.getExtension(Extension.cRLDistributionPoints) != null
                        || ext.getExtension(Extension.authorityInfoAccess) != null) {
                    problems.add("an OCSP responder certificate carries no CRL distribution point or AIA "
                            + "(its status is never checked: id-pkix-ocsp-nocheck)");
                }
            }
        }
        fail(problems);
    }

    /** A device certificate: the profile's names, key usages and EKUs, for a key type the profile allows. */
    private static void device(List<String> problems, Rules rules, Extension ku, Set<String> ekus,
            List<String> dnsNames, int ipAddresses) {
        CertificateProfile p = rules.profile();
        KeyType keyType = rules.keyType();
        if (ipAddresses > 0) {
            problems.add("a device certificate carries no IP addresses");
        }
        if (!dnsNames.isEmpty() && !p.dnsNamesAllowed()) {
            problems.add("profile " + p.name() + " allows no DNS names");
        }
        if (p.dnsNamesRequired() && dnsNames.isEmpty()) {
            problems.add("profile " + p.name() + " requires DNS names");
        }
        if (dnsNames.size() > p.maxDnsNames()) {
            problems.add("more DNS names than profile " + p.name() + " allows");
        }
        for (KeyUsageName usage : p.keyUsage()) {
            if (!keyType.permits(usage)) {
                problems.add("key usage " + usage + " is not permitted for " + keyType + " keys");
            }
        }
        if (ku != null) {
            KeyUsage bits = KeyUsage.getInstance(ku.getParsedValue());
            for (KeyUsageName usage : p.keyUsage()) {
                if (!bits.hasUsages(usage.bit())) {
                    problems.add("keyUsage lacks " + usage + " that profile " + p.name() + " names");
                }
            }
        }
        Set<String> wanted = new HashSet<>();
        for (ExtendedKeyUsageName e : p.extendedKeyUsage()) {
            wanted.add(e.oid());
        }
        if (!ekus.equals(wanted)) {
            problems.add("extendedKeyUsage differs from profile " + p.name() + "'s");
        }
        if (!p.keyTypes().contains(keyType)) {
            problems.add("key type " + keyType + " not allowed by profile " + p.name());
        }
    }

    /**
     * Trent's own TLS server certificate's names, before the TBS is built (an IP address that
     * does not parse cannot be put in one): at least one name, valid DNS names, and IP addresses
     * that look like addresses; with the common window rules.
     */
    public static void lintTlsServer(BigInteger serial, Instant notBefore, Instant notAfter, Issuer issuer,
            List<String> dnsNames, List<String> ipAddresses) {
        List<String> problems = new ArrayList<>();
        if (serial.signum() <= 0) {
            problems.add("serial must be positive (RFC 5280 4.1.2.2)");
        }
        if (!notBefore.isBefore(notAfter)) {
            problems.add("notBefore must precede notAfter");
        }
        if (notAfter.isAfter(issuer.certificate().getNotAfter().toInstant())) {
            problems.add("certificate would outlive its issuer");
        }
        if (dnsNames.isEmpty() && ipAddresses.isEmpty()) {
            problems.add("a TLS server certificate needs at least one DNS name or IP address");
        }
        for (String name : dnsNames) {
            if (!DnsNames.isValid(name)) {
                problems.add("invalid DNS name " + name);
            }
        }
        for (String ip : ipAddresses) {
            if (!ip.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
                problems.add("invalid IP address " + ip);
            }
        }
        fail(problems);
    }

    private static void fail(List<String> problems) {
        if (!problems.isEmpty()) {
            throw new LintException("pre-signing lint failed: " + String.join("; ", problems));
        }
    }

    private static String commonName(X500Name subject) {
        RDN[] cns = subject.getRDNs(BCStyle.CN);
        if (cns.length != 1 || cns[0].isMultiValued()) {
            return null;
        }
        return cns[0].getFirst().getValue() instanceof org.bouncycastle.asn1.ASN1String s ? s.getString() : null;
    }

    private static Set<String> ekus(Extensions ext) {
        Set<String> out = new HashSet<>();
        ExtendedKeyUsage eku = ExtendedKeyUsage.fromExtensions(ext);
        if (eku != null) {
            for (KeyPurposeId id : eku.getUsages()) {
                out.add(oid(id));
            }
        }
        return out;
    }

    private static String oid(KeyPurposeId id) {
        return ((ASN1ObjectIdentifier) id.toASN1Primitive()).getId();
    }

    private static byte[] der(org.bouncycastle.asn1.ASN1Encodable value) {
        try {
            return value.toASN1Primitive().getEncoded(ASN1Encoding.DER);
        } catch (IOException e) {
            throw new LintException("pre-signing lint failed: a field cannot be encoded");
        }
    }
}
