package dev.trent.est;

import java.io.IOException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.pkcs.Attribute;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralNames;

import dev.trent.domain.DomainException;
import dev.trent.enrollment.CsrDecoder;
import dev.trent.enrollment.DecodedCsr;
import dev.trent.enrollment.EnrollmentService;

/**
 * EST's own rules on the requests it passes to enrollment (RFC 7030): what simplereenroll
 * requires of the CSR's names, and what serverkeygen refuses in its CSR.
 */
final class EstRequests {

    private EstRequests() {
    }

    /**
     * RFC 7030 4.2.2: "The request Subject field and SubjectAltName extension MUST be identical to
     * the corresponding fields in the certificate being renewed or rekeyed." Else 400
     * {@code subject-mismatch}.
     */
    static final EnrollmentService.CsrNames SAME_NAMES_AS_CERTIFICATE = EstRequests::requireSameNames;

    private static void requireSameNames(DecodedCsr csr, X509Certificate leaf) {
        try {
            X500Name certSubject = X500Name.getInstance(leaf.getSubjectX500Principal().getEncoded());
            if (!Arrays.equals(csr.request().getSubject().getEncoded(), certSubject.getEncoded())) {
                throw DomainException.invalid("subject-mismatch", "Subject mismatch", "The CSR's subject ("
                        + csr.request().getSubject() + ") must be identical to the current certificate's ("
                        + certSubject + ").");
            }
            byte[] certSans = leaf.getExtensionValue(Extension.subjectAlternativeName.getId());
            GeneralNames wanted = null;
            for (Attribute a : csr.request().getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
                Extensions ext = Extensions.getInstance(a.getAttrValues().getObjectAt(0));
                wanted = GeneralNames.fromExtensions(ext, Extension.subjectAlternativeName);
            }
            GeneralNames have = certSans == null ? null
                    : GeneralNames.getInstance(ASN1OctetString.getInstance(certSans).getOctets());
            boolean same = have == null ? wanted == null
                    : wanted != null && Arrays.equals(have.getEncoded(), wanted.getEncoded());
            if (!same) {
                throw DomainException.invalid("subject-mismatch", "Subject mismatch", "The CSR's subjectAltName "
                        + "must be identical to the current certificate's (" + (have == null ? "none" : "as issued")
                        + ").");
            }
        } catch (IOException e) {
            throw DomainException.invalid("csr-malformed", "Malformed CSR", "The CSR's names cannot be read.");
        }
    }

    /**
     * EST serverkeygen's CSR (RFC 7030 4.4.1): required by the protocol and well-formed, but its
     * key and subject are not used. A request for the key encrypted to a symmetric or asymmetric
     * key (DecryptKeyIdentifier, AsymmetricDecryptKeyIdentifier; 4.4.1.1, 4.4.1.2) is refused:
     * Trent returns the key protected by TLS only, and must not silently ignore such a request.
     */
    static void checkServerKeygenCsr(byte[] body, CsrDecoder.Encoding encoding) {
        DecodedCsr csr = EnrollmentService.decode(body, encoding);
        for (String oid : List.of("1.2.840.113549.1.9.16.2.37", "1.2.840.113549.1.9.16.2.54")) {
            if (csr.request().getAttributes(new ASN1ObjectIdentifier(oid)).length > 0) {
                throw DomainException.invalid("key-encryption-unsupported", "Key encryption unsupported",
                        "The CSR asks for the private key encrypted (" + (oid.endsWith("37") ? "DecryptKeyIdentifier"
                                : "AsymmetricDecryptKeyIdentifier") + "); Trent returns it protected by TLS only. "
                                + "Send the CSR without that attribute.");
            }
        }
    }
}
