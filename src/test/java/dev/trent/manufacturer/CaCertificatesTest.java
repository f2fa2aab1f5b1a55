package dev.trent.manufacturer;

import static dev.trent.manufacturer.HostileCertificates.der;
import static dev.trent.manufacturer.HostileCertificates.name;
import static dev.trent.manufacturer.HostileCertificates.p256;
import static dev.trent.manufacturer.HostileCertificates.selfSignedCa;
import static dev.trent.manufacturer.HostileCertificates.serial;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.cert.CertificateFactory;

import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERIA5String;
import org.bouncycastle.asn1.DERT61String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;

import dev.trent.pki.Pem;

/**
 * The manufacturer CA decoder against hostile certificates: each refused with its problem type
 * and a sentence naming the defect, before any recursive parser sees over-deep input.
 */
class CaCertificatesTest {

    private static String pem(byte[]... certs) {
        StringBuilder sb = new StringBuilder();
        for (byte[] c : certs) {
            sb.append(Pem.encode("CERTIFICATE", c));
        }
        return sb.toString();
    }

    private static CaCertificates.Refused refused(byte[]... certs) {
        return catchThrowableOfType(CaCertificates.Refused.class, () -> CaCertificates.registrable(pem(certs)));
    }

    @Test
    void registrableWhenSelfSignedCaThenAccepted() throws Exception {
        KeyPair k = p256();
        byte[] der = selfSignedCa(name("Good"), k);

        assertThat(CaCertificates.registrable(pem(der)).getEncoded()).isEqualTo(der);
    }

    @Test
    void registrableWhenCnIsABooleanThenMalformedNamingTheAttribute() {
        KeyPair k = p256();
        X500Name n = HostileCertificates.booleanCn();
        CaCertificates.Refused e = refused(der(n, n, k.getPublic(), k.getPrivate(), serial(), true, KeyUsage.keyCertSign));

        assertThat(e.type()).isEqualTo("certificate-malformed");
        assertThat(e.getMessage()).contains("subject").contains("CN (2.5.4.3)").contains("BOOLEAN");
    }

    @Test
    void registrableWhenNameUsesAStringTypeRfc5280DoesNotAllowForTheAttributeThenMalformed() {
        KeyPair k = p256();
        X500Name ia5Cn = new X500Name(new RDN[] {new RDN(BCStyle.CN, new DERIA5String("ia5 cn"))});
        X500Name utf8Country = new X500Name(new RDN[] {new RDN(BCStyle.C, new org.bouncycastle.asn1.DERUTF8String("DE")),
            new RDN(BCStyle.CN, new org.bouncycastle.asn1.DERUTF8String("x"))});

        assertThat(refused(der(ia5Cn, ia5Cn, k.getPublic(), k.getPrivate(), serial(), true, null)).getMessage())
                .contains("IA5String").contains("not a DirectoryString");
        assertThat(refused(der(utf8Country, utf8Country, k.getPublic(), k.getPrivate(), serial(), true, null))
                .getMessage()).contains("C (2.5.4.6)").contains("requires PrintableString");
    }

    @Test
    void registrableWhenLegacyTeletexStringThenTolerated() throws Exception {
        KeyPair k = p256();
        X500Name t61 = new X500Name(new RDN[] {new RDN(BCStyle.CN, new DERT61String("Legacy Root"))});

        assertThat(CaCertificates.registrable(pem(der(t61, t61, k.getPublic(), k.getPrivate(), serial(), true, null))))
                .isNotNull();
    }

    @Test
    void registrableWhenSelfSignatureDoesNotVerifyThenSignatureInvalid() {
        KeyPair k = p256();
        X500Name n = name("Bad self-signature");
        CaCertificates.Refused e = refused(der(n, n, k.getPublic(), p256().getPrivate(), serial(), true, null));

        assertThat(e.type()).isEqualTo("certificate-signature-invalid");
        assertThat(e.getMessage()).contains("self-signature does not verify");
    }

    @Test
    void registrableWhenNotACaOrNoKeyCertSignThenNotACaCertificate() {
        KeyPair k = p256();
        X500Name n = name("Leaf");
        X500Name m = name("No keyCertSign");

        assertThat(refused(der(n, n, k.getPublic(), k.getPrivate(), serial(), false, null)).type())
                .isEqualTo("not-a-ca-certificate");
        CaCertificates.Refused e = refused(der(m, m, k.getPublic(), k.getPrivate(), serial(), true,
                KeyUsage.digitalSignature));
        assertThat(e.type()).isEqualTo("not-a-ca-certificate");
        assertThat(e.getMessage()).contains("keyCertSign");
    }

    @Test
    void registrableWhenEncodingIsNotStrictDerThenMalformedBeforeAnyRecursiveParser() throws Exception {
        KeyPair k = p256();
        byte[] good = selfSignedCa(name("Encoding"), k);
        byte[] deepIndefinite = HostileCertificates.nestedIndefinite(4000);
        byte[] deepDefinite = HostileCertificates.nestedDefinite(3000);
        // What the check keeps away: the JDK's parser on deep BER (here it may merely fail; deeper, it overflowed).
        assertThat(deepIndefinite.length).isLessThan(CaCertificates.MAX_DER_BYTES);

        assertThat(refused(deepIndefinite).getMessage()).contains("indefinite length");
        assertThat(refused(deepDefinite).getMessage()).contains("nested deeper than 16");
        assertThat(refused(HostileCertificates.withTrailing(good, (byte) 0, (byte) 0)).getMessage())
                .contains("trailing data");
        assertThat(refused(HostileCertificates.nonMinimalLength(good)).getMessage()).contains("non-minimal length");
        assertThat(refused(HostileCertificates.oversized(k)).getMessage()).contains("at most 16384");
        // The same deep nesting inside an extension's value (the JDK parses some extensions when it reads a certificate).
        X500Name n = name("Deep extension");
        assertThat(refused(der(n, n, k.getPublic(), k.getPrivate(), serial(), true, null,
                org.bouncycastle.asn1.ASN1Sequence.getInstance(HostileCertificates.nestedDefinite(40)))).getMessage())
                .contains("extension 1.3.6.1.4.1.55555.1.0").contains("nested deeper");
        // Every refusal came before the JDK: it still reads the good one.
        CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(good));
    }

    @Test
    void registrableWhenSerialIsNegativeOrLongerThan20OctetsThenMalformed() {
        KeyPair k = p256();
        X500Name n = name("Serial");

        assertThat(refused(der(n, n, k.getPublic(), k.getPrivate(), BigInteger.valueOf(-42), true, null)).getMessage())
                .contains("serial number is not positive");
        assertThat(refused(der(n, n, k.getPublic(), k.getPrivate(), BigInteger.ONE.shiftLeft(170), true, null))
                .getMessage()).contains("longer than 20 octets");
    }

    @Test
    void registrableWhenNotSelfSignedThenItsChainIsRequiredAndVerified() throws Exception {
        KeyPair rootKeys = p256();
        X500Name rootName = name("Root");
        byte[] root = selfSignedCa(rootName, rootKeys);
        KeyPair intKeys = p256();
        X500Name intName = name("Intermediate");
        byte[] intermediate = der(rootName, intName, intKeys.getPublic(), rootKeys.getPrivate(), serial(), true,
                KeyUsage.keyCertSign);
        byte[] forgedRoot = selfSignedCa(rootName, p256()); // same name, another key

        assertThat(refused(intermediate).type()).isEqualTo("certificate-chain-invalid");
        assertThat(refused(intermediate).getMessage()).contains("not self-signed").contains("issuer's certificate after it");
        assertThat(CaCertificates.registrable(pem(intermediate, root)).getEncoded()).isEqualTo(intermediate);
        assertThat(refused(intermediate, forgedRoot).type()).isEqualTo("certificate-signature-invalid");
        assertThat(refused(root, intermediate).getMessage()).contains("nothing may follow it");
        assertThat(refused(intermediate, selfSignedCa(name("Stranger"), p256())).getMessage())
                .contains("list each certificate's issuer right after it");
    }

    @Test
    void registrableWhenPemHoldsSomethingElseThenInvalidRequest() {
        assertThatThrownBy(() -> CaCertificates.registrable("not a certificate"))
                .isInstanceOfSatisfying(CaCertificates.Refused.class, e -> assertThat(e.type()).isEqualTo("invalid-request"))
                .hasMessageContaining("PEM");
        assertThatThrownBy(() -> CaCertificates.registrable(Pem.encode("PRIVATE KEY", new ASN1Integer(1).getEncoded())))
                .hasMessageContaining("PRIVATE KEY");
    }
}
