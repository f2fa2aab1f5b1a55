package dev.trent.pki;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1BMPString;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1PrintableString;
import org.bouncycastle.asn1.ASN1T61String;
import org.bouncycastle.asn1.ASN1UTF8String;
import org.bouncycastle.asn1.ASN1UniversalString;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;

/**
 * Whether an X.501 Name is one that every TLS and X.509 implementation reads: strict DER, at most
 * {@link #MAX_BYTES}, and every attribute value a string type RFC 5280 allows for it.
 * OpenSSL refuses a name whose value is any other type ("mstring wrong tag"), and a TLS client
 * that meets such a name in a CertificateRequest aborts the whole handshake.
 *
 * <p>The rule (RFC 5280, 4.1.2.4 and Appendix A): countryName, serialNumber and dnQualifier are
 * PrintableString; emailAddress, domainComponent and PKCS#9 unstructuredName are IA5String;
 * every other attribute is a DirectoryString: PrintableString or UTF8String, and, tolerated
 * because RFC 5280 keeps them for names that already use them, TeletexString, BMPString and
 * UniversalString (OpenSSL, the JDK and Bouncy Castle all read these). Values must be non-empty
 * and well-formed in their type (PrintableString's character set, valid UTF-8, 7-bit IA5).
 */
public final class DistinguishedNames {

    /** The largest encoded name accepted (a CertificateRequest carries many; RFC 5280's bounds give far less). */
    public static final int MAX_BYTES = 1024;
    private static final int MAX_DEPTH = 4; // Name > RDN > AttributeTypeAndValue > value

    private static final ASN1ObjectIdentifier UNSTRUCTURED_NAME = new ASN1ObjectIdentifier("1.2.840.113549.1.9.2");
    private static final Set<ASN1ObjectIdentifier> PRINTABLE_ONLY = Set.of(BCStyle.C, BCStyle.SERIALNUMBER,
            BCStyle.DN_QUALIFIER);
    private static final Set<ASN1ObjectIdentifier> IA5_ONLY = Set.of(BCStyle.EmailAddress, BCStyle.DC,
            UNSTRUCTURED_NAME);

    private DistinguishedNames() {
    }

    /**
     * What is wrong with the encoded Name {@code der}, in a sentence; or null when it is
     * acceptable. Never throws on any input.
     */
    public static String problem(byte[] der) {
        return problem(der, true);
    }

    /**
     * Like {@link #problem(byte[])}, but without the per-attribute rules when {@code perAttribute}
     * is false: any of the six string types for any attribute. That is what TLS clients need to
     * parse a name (OpenSSL's X509_NAME takes any of them), and what the TLS listener requires of
     * the names it lists, Trent's own CAs included (an imported root may say C in UTF8String).
     */
    public static String problem(byte[] der, boolean perAttribute) {
        if (der == null) {
            return "no name";
        }
        if (der.length > MAX_BYTES) {
            return "the name is " + der.length + " bytes encoded; at most " + MAX_BYTES + " are accepted";
        }
        try {
            StrictDer.check(der, MAX_DEPTH);
        } catch (StrictDer.NotDer e) {
            return "the name is not DER: " + e.getMessage();
        }
        X500Name name;
        try {
            name = X500Name.getInstance(ASN1Primitive.fromByteArray(der));
            if (!Arrays.equals(name.getEncoded(ASN1Encoding.DER), der)) {
                return "the name does not re-encode to the same DER (for instance a multi-valued RDN out of DER order)";
            }
            // Bouncy Castle reads RDNs lazily: a malformed one throws here, not in getInstance.
            for (RDN rdn : name.getRDNs()) {
                AttributeTypeAndValue[] values = rdn.getTypesAndValues();
                if (values.length == 0) {
                    return "the name has an empty RDN";
                }
                for (AttributeTypeAndValue tv : values) {
                    String p = valueProblem(tv.getType(), tv.getValue(), perAttribute);
                    if (p != null) {
                        String label = BCStyle.INSTANCE.oidToDisplayName(tv.getType());
                        return "attribute " + (label == null ? "" : label + " ") + "(" + tv.getType().getId() + "): "
                                + p;
                    }
                }
            }
            return null;
        } catch (java.io.IOException | RuntimeException e) {
            return "the name is not an X.501 Name: " + e.getMessage();
        }
    }

    private static String valueProblem(ASN1ObjectIdentifier type, ASN1Encodable value, boolean perAttribute) {
        ASN1Primitive v = value.toASN1Primitive();
        if (!(v instanceof ASN1String s)) {
            return "its value is " + typeName(v) + ", not a string type (RFC 5280 allows PrintableString or "
                    + "UTF8String here)";
        }
        boolean printable = v instanceof ASN1PrintableString;
        boolean ia5 = v instanceof ASN1IA5String;
        boolean legacy = v instanceof ASN1T61String || v instanceof ASN1BMPString || v instanceof ASN1UniversalString;
        if (!perAttribute) {
            if (!printable && !ia5 && !legacy && !(v instanceof ASN1UTF8String)) {
                return "its value is " + typeName(v) + ", not one of the string types names use";
            }
        } else if (PRINTABLE_ONLY.contains(type)) {
            if (!printable) {
                return "its value is " + typeName(v) + "; RFC 5280 requires PrintableString";
            }
        } else if (IA5_ONLY.contains(type)) {
            if (!ia5) {
                return "its value is " + typeName(v) + "; RFC 5280 requires IA5String";
            }
        } else if (!printable && !(v instanceof ASN1UTF8String) && !legacy) {
            return "its value is " + typeName(v) + ", not a DirectoryString (PrintableString, UTF8String; "
                    + "TeletexString, BMPString or UniversalString for legacy names)";
        }
        byte[] octets = contents(v);
        if (octets.length == 0) {
            return "its value is empty";
        }
        if (printable) {
            for (byte b : octets) {
                if (!ASN1PrintableString.isPrintableString(String.valueOf((char) (b & 0xff)))) {
                    return "its PrintableString holds a character PrintableString does not allow";
                }
            }
        } else if (ia5) {
            for (byte b : octets) {
                if (b < 0) {
                    return "its IA5String holds a byte above 0x7f";
                }
            }
        } else if (v instanceof ASN1UTF8String) {
            try {
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(octets));
            } catch (CharacterCodingException e) {
                return "its UTF8String is not valid UTF-8";
            }
        } else if (v instanceof ASN1BMPString && octets.length % 2 != 0
                || v instanceof ASN1UniversalString && octets.length % 4 != 0) {
            return "its " + typeName(v) + " has a length that is not a whole number of characters";
        }
        return s.getString() == null ? "its value cannot be read" : null;
    }

    /** The contents octets of a primitive value (after its tag and length). */
    private static byte[] contents(ASN1Primitive v) {
        try {
            byte[] enc = v.getEncoded(ASN1Encoding.DER);
            int lenByte = enc[1] & 0xff;
            int header = 2 + (lenByte < 0x80 ? 0 : lenByte & 0x7f);
            return Arrays.copyOfRange(enc, header, enc.length);
        } catch (java.io.IOException e) {
            return new byte[0];
        }
    }

    private static final java.util.Map<Integer, String> UNIVERSAL = java.util.Map.ofEntries(
            java.util.Map.entry(1, "BOOLEAN"), java.util.Map.entry(2, "INTEGER"), java.util.Map.entry(3, "BIT STRING"),
            java.util.Map.entry(4, "OCTET STRING"), java.util.Map.entry(5, "NULL"),
            java.util.Map.entry(6, "OBJECT IDENTIFIER"), java.util.Map.entry(10, "ENUMERATED"),
            java.util.Map.entry(12, "UTF8String"), java.util.Map.entry(16, "SEQUENCE"), java.util.Map.entry(17, "SET"),
            java.util.Map.entry(18, "NumericString"), java.util.Map.entry(19, "PrintableString"),
            java.util.Map.entry(20, "TeletexString"), java.util.Map.entry(21, "VideotexString"),
            java.util.Map.entry(22, "IA5String"), java.util.Map.entry(23, "UTCTime"),
            java.util.Map.entry(24, "GeneralizedTime"), java.util.Map.entry(25, "GraphicString"),
            java.util.Map.entry(26, "VisibleString"), java.util.Map.entry(27, "GeneralString"),
            java.util.Map.entry(28, "UniversalString"), java.util.Map.entry(30, "BMPString"));

    /** The ASN.1 type of a value, as X.680 names it ("BOOLEAN", "IA5String", "[0]"). */
    private static String typeName(ASN1Primitive v) {
        try {
            int id = v.getEncoded(ASN1Encoding.DER)[0] & 0xff;
            if (id >>> 6 == 0) {
                return UNIVERSAL.getOrDefault(id & 0x1f, "universal type " + (id & 0x1f));
            }
            return "a tagged value [" + (id & 0x1f) + "]";
        } catch (java.io.IOException e) {
            return "an unreadable value";
        }
    }
}
