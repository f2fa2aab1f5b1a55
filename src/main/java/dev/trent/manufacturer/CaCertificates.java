package dev.trent.manufacturer;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.x509.Certificate;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.TBSCertificate;

import dev.trent.pki.DistinguishedNames;
import dev.trent.pki.Pem;
import dev.trent.pki.StrictDer;

/**
 * The decoder of manufacturer CA certificates (untrusted bytes an operator pastes): a
 * certificate is accepted only when OpenSSL, the JDK and Bouncy Castle would all read it the
 * same way, because its subject is named in every TLS CertificateRequest Trent sends, and one
 * name a TLS client cannot parse aborts that client's handshake.
 *
 * <p>In order, each refusal naming what was wrong: at most {@link #MAX_DER_BYTES}; strict DER
 * nested at most {@link #MAX_DEPTH} levels, checked without recursion before any recursive parser
 * sees the bytes ({@link StrictDer}); Bouncy Castle's parse re-encodes to the same bytes; X.509
 * v3; a positive serial of at most 20 octets (RFC 5280, 4.1.2.2); the same signature algorithm
 * inside and outside the TBSCertificate (4.1.1.2); subject and issuer names of string types as
 * RFC 5280 allows ({@link DistinguishedNames}), the subject non-empty (4.1.2.6); every extension
 * value DER (4.1: "contains the DER encoding of an ASN.1 value"), and so the RSA/DSA key and the
 * ECDSA/DSA signature; the JDK reads it.
 */
final class CaCertificates {

    static final int MAX_DER_BYTES = 16 * 1024;
    static final int MAX_DEPTH = 16;
    /** Certificates in one registration: the CA and its issuers up to a self-signed root. */
    static final int MAX_CHAIN = 8;
    private static final int MAX_PEM_CHARS = MAX_CHAIN * (MAX_DER_BYTES * 4 / 3 + 1024);

    private static final Set<String> DER_KEYS = Set.of("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10",
            "1.2.840.10040.4.1");

    private CaCertificates() {
    }

    /** Why a certificate is refused: the problem type slug and a sentence saying what was wrong. */
    static final class Refused extends Exception {
        private final String type;

        Refused(String type, String detail) {
            super(detail);
            this.type = type;
        }

        String type() {
            return type;
        }
    }

    /**
     * The certificate to register, from {@code pem}: one CA certificate, self-signed with a
     * verifying signature; or a CA certificate followed by its issuers up to a self-signed root,
     * each signature verifying with the next certificate's key. Only the first is registered.
     */
    static X509Certificate registrable(String pem) throws Refused {
        if (pem == null || pem.isBlank()) {
            throw new Refused("invalid-request", "'certificate' is required: the manufacturer CA's certificate in PEM.");
        }
        if (pem.length() > MAX_PEM_CHARS) {
            throw new Refused("certificate-malformed", "'certificate' is " + pem.length() + " characters; at most "
                    + MAX_CHAIN + " PEM certificates of at most " + MAX_DER_BYTES + " bytes each are accepted.");
        }
        List<Pem.Block> blocks;
        try {
            blocks = Pem.decodeAll(pem);
        } catch (RuntimeException e) {
            throw new Refused("invalid-request", "'certificate' is not readable PEM: " + e.getMessage() + ".");
        }
        if (blocks.isEmpty() || blocks.size() > MAX_CHAIN
                || blocks.stream().anyMatch(b -> !b.label().equals("CERTIFICATE"))) {
            throw new Refused("invalid-request", "'certificate' must hold the CA's PEM certificate "
                    + "(-----BEGIN CERTIFICATE-----), optionally followed by its issuers' up to a self-signed root "
                    + "(at most " + MAX_CHAIN + " in all), and nothing else; found " + blocks.size() + " PEM block(s)"
                    + (blocks.isEmpty() ? "" : " labelled " + blocks.stream().map(Pem.Block::label).distinct().toList())
                    + ".");
        }
        List<X509Certificate> chain = new ArrayList<>();
        for (int i = 0; i < blocks.size(); i++) {
            try {
                X509Certificate c = readable(blocks.get(i).der());
                caProblem(c);
                chain.add(c);
            } catch (Refused e) {
                throw i == 0 ? e : new Refused(e.type().equals("not-a-ca-certificate") ? "certificate-chain-invalid"
                        : e.type(), "Issuer certificate " + (i + 1) + " in 'certificate': " + e.getMessage());
            }
        }
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            boolean selfIssued = c.getIssuerX500Principal().equals(c.getSubjectX500Principal());
            String which = i == 0 ? "The certificate" : "Issuer certificate " + (i + 1);
            if (selfIssued) {
                if (!signedBy(c, c)) {
                    throw new Refused("certificate-signature-invalid", which + " (" + c.getSubjectX500Principal()
                            .getName() + ") names itself as issuer, but its self-signature does not verify with its "
                            + "own key.");
                }
                if (i != chain.size() - 1) {
                    throw new Refused("certificate-chain-invalid", which + " is self-signed; nothing may follow it in "
                            + "'certificate'.");
                }
                return chain.get(0);
            }
            if (i == chain.size() - 1) {
                throw new Refused("certificate-chain-invalid", which + " (" + c.getSubjectX500Principal().getName()
                        + ") is not self-signed (issuer " + c.getIssuerX500Principal().getName() + "): put its "
                        + "issuer's certificate after it in 'certificate', and theirs, up to the self-signed root, so "
                        + "that its signature can be verified.");
            }
            X509Certificate issuer = chain.get(i + 1);
            if (!c.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
                throw new Refused("certificate-chain-invalid", which + " is issued by " + c.getIssuerX500Principal()
                        .getName() + ", but the next certificate is " + issuer.getSubjectX500Principal().getName()
                        + ": list each certificate's issuer right after it.");
            }
            if (!signedBy(c, issuer)) {
                throw new Refused("certificate-signature-invalid", which + "'s signature does not verify with the key "
                        + "of its issuer (" + issuer.getSubjectX500Principal().getName() + ", the next certificate).");
            }
        }
        throw new IllegalStateException("unreachable: the loop returns or throws at the last certificate");
    }

    /** Whether {@code issuer}'s key verifies {@code c}'s signature. */
    private static boolean signedBy(X509Certificate c, X509Certificate issuer) {
        try {
            c.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false;
        }
    }

    /** Refuses a certificate that is not a CA's: basicConstraints cA, and keyCertSign if keyUsage is present. */
    static void caProblem(X509Certificate c) throws Refused {
        if (c.getBasicConstraints() < 0) {
            throw new Refused("not-a-ca-certificate", "The certificate (" + c.getSubjectX500Principal().getName()
                    + ") is not a CA certificate (basicConstraints cA is not set); register the CA that issues the "
                    + "factory certificates.");
        }
        boolean[] usage = c.getKeyUsage();
        if (usage != null && (usage.length < 6 || !usage[5])) {
            throw new Refused("not-a-ca-certificate", "The certificate (" + c.getSubjectX500Principal().getName()
                    + ") has a keyUsage without keyCertSign: it cannot sign certificates (RFC 5280, 4.2.1.3).");
        }
    }

    /**
     * The certificate in {@code der} if every implementation reads it alike (see the class
     * comment); also applied to rows read back from the database, which may predate this check.
     */
    static X509Certificate readable(byte[] der) throws Refused {
        if (der.length > MAX_DER_BYTES) {
            throw malformed("it is " + der.length + " bytes; at most " + MAX_DER_BYTES + " are accepted");
        }
        try {
            StrictDer.check(der, MAX_DEPTH);
        } catch (StrictDer.NotDer e) {
            throw malformed("it is not DER: " + e.getMessage());
        }
        Certificate cert;
        try {
            cert = Certificate.getInstance(ASN1Primitive.fromByteArray(der));
            if (!Arrays.equals(cert.getEncoded(ASN1Encoding.DER), der)) {
                throw malformed("it does not re-encode to the same bytes (not DER: a non-canonical value such as "
                        + "a BOOLEAN other than 0xFF, a default value written out, or a SET out of order)");
            }
        } catch (java.io.IOException | RuntimeException e) {
            throw malformed("it is not an X.509 certificate: " + e.getMessage());
        }
        TBSCertificate tbs = cert.getTBSCertificate();
        if (tbs.getVersionNumber() != 3) {
            throw malformed("it is an X.509 v" + tbs.getVersionNumber() + " certificate; a CA certificate is v3 "
                    + "(basicConstraints needs extensions)");
        }
        BigInteger serial = tbs.getSerialNumber().getValue();
        if (serial.signum() <= 0 || serial.toByteArray().length > 20) {
            throw malformed("its serial number " + (serial.signum() <= 0 ? "is not positive"
                    : "is longer than 20 octets") + " (RFC 5280, 4.1.2.2)");
        }
        if (!tbs.getSignature().equals(cert.getSignatureAlgorithm())) {
            throw malformed("the signature algorithm inside the signed part differs from the one outside it "
                    + "(RFC 5280, 4.1.1.2)");
        }
        String subject = nameProblem(tbs.getSubject());
        if (subject != null) {
            throw malformed("its subject is not a name every TLS client can read: " + subject);
        }
        if (tbs.getSubject().getRDNs().length == 0) {
            throw malformed("its subject is empty (RFC 5280, 4.1.2.6: a CA's subject is a non-empty name)");
        }
        String issuer = nameProblem(tbs.getIssuer());
        if (issuer != null) {
            throw malformed("its issuer is not a name every TLS client can read: " + issuer);
        }
        Extensions extensions = tbs.getExtensions();
        if (extensions != null) {
            for (ASN1ObjectIdentifier oid : extensions.getExtensionOIDs()) {
                Extension e = extensions.getExtension(oid);
                try {
                    StrictDer.check(e.getExtnValue().getOctets(), MAX_DEPTH);
                } catch (StrictDer.NotDer x) {
                    throw malformed("the value of extension " + oid.getId() + " is not DER (RFC 5280, 4.1): "
                            + x.getMessage());
                }
            }
        }
        try {
            if (DER_KEYS.contains(tbs.getSubjectPublicKeyInfo().getAlgorithm().getAlgorithm().getId())) {
                StrictDer.check(tbs.getSubjectPublicKeyInfo().getPublicKeyData().getOctets(), MAX_DEPTH);
            }
            String sigAlg = cert.getSignatureAlgorithm().getAlgorithm().getId();
            if (sigAlg.startsWith("1.2.840.10045.4.") || sigAlg.startsWith("1.2.840.10040.4.")
                    || sigAlg.startsWith("2.16.840.1.101.3.4.3.")) {
                StrictDer.check(cert.getSignature().getOctets(), MAX_DEPTH);
            }
        } catch (StrictDer.NotDer x) {
            throw malformed("its public key or signature is not DER: " + x.getMessage());
        } catch (RuntimeException x) {
            throw malformed("its public key or signature is not a whole number of bytes: " + x.getMessage());
        }
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException | RuntimeException e) {
            throw malformed("Java cannot read it: " + e.getMessage());
        }
    }

    private static String nameProblem(org.bouncycastle.asn1.x500.X500Name name) {
        try {
            return DistinguishedNames.problem(name.getEncoded(ASN1Encoding.DER));
        } catch (java.io.IOException e) {
            return "it cannot be encoded";
        }
    }

    private static Refused malformed(String what) {
        return new Refused("certificate-malformed", "The certificate is refused: " + what + ".");
    }
}
