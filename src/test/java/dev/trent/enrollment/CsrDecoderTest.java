package dev.trent.enrollment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

import org.junit.jupiter.api.Test;

import dev.trent.pki.Pem;
import dev.trent.support.TestCsrs;

class CsrDecoderTest {

    private final TestCsrs.Csr csr = TestCsrs.ecP256("dev");

    private DecodedCsr decode(byte[] body, CsrDecoder.Encoding e) throws CsrException {
        DecodedCsr d = CsrDecoder.decode(body, e);
        CsrDecoder.verifyProofOfPossession(d);
        return d;
    }

    @Test
    void decodeWhenPemDerOrBase64ThenSameKey() throws Exception {
        byte[] der = csr.der();
        String b64 = Base64.getMimeEncoder().encodeToString(der);
        for (DecodedCsr d : new DecodedCsr[] {
            decode(csr.pem().getBytes(StandardCharsets.US_ASCII), CsrDecoder.Encoding.TEXT),
            decode(der, CsrDecoder.Encoding.PKCS10),
            decode(b64.getBytes(StandardCharsets.US_ASCII), CsrDecoder.Encoding.PKCS10),
            decode((b64 + "\r\n").getBytes(StandardCharsets.US_ASCII), CsrDecoder.Encoding.TEXT),
            decode(csr.pem().getBytes(StandardCharsets.US_ASCII), CsrDecoder.Encoding.PKCS10)}) {
            assertThat(d.publicKey()).isEqualTo(csr.keys().getPublic());
        }
    }

    @Test
    void decodeWhenPemEndsWithNulAsMbedtlsBuffersDoThenAccepted() throws Exception {
        byte[] pem = csr.pem().getBytes(StandardCharsets.US_ASCII);
        byte[] withNul = Arrays.copyOf(pem, pem.length + 1);
        assertThat(decode(withNul, CsrDecoder.Encoding.TEXT).publicKey()).isEqualTo(csr.keys().getPublic());
    }

    @Test
    void decodeWhenKeytoolLabelThenAccepted() throws Exception {
        byte[] pem = Pem.encode("NEW CERTIFICATE REQUEST", csr.der()).getBytes(StandardCharsets.US_ASCII);
        assertThat(decode(pem, CsrDecoder.Encoding.TEXT).publicKey()).isEqualTo(csr.keys().getPublic());
    }

    @Test
    void decodeWhenWrongOrManyPemBlocksThenMalformed() {
        byte[] cert = Pem.encode("CERTIFICATE", csr.der()).getBytes(StandardCharsets.US_ASCII);
        byte[] two = (csr.pem() + csr.pem()).getBytes(StandardCharsets.US_ASCII);
        assertMalformed(cert, CsrDecoder.Encoding.TEXT);
        assertMalformed(two, CsrDecoder.Encoding.TEXT);
    }

    @Test
    void decodeWhenTrailingBytesAfterDerThenMalformed() {
        byte[] der = csr.der();
        assertMalformed(Arrays.copyOf(der, der.length + 2), CsrDecoder.Encoding.PKCS10);
    }

    @Test
    void decodeWhenGarbageOrEmptyThenMalformedNeverRuntimeException() {
        byte[][] inputs = {
            new byte[0], "!!!".getBytes(), {0x30}, {0x30, (byte) 0x84, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff},
            {0x30, 0x03, 0x02, 0x01, 0x01}, "-----BEGIN CERTIFICATE REQUEST-----\n@@@\n-----END CERTIFICATE REQUEST-----"
                    .getBytes()};
        for (byte[] in : inputs) {
            assertMalformed(in, CsrDecoder.Encoding.PKCS10);
            assertMalformed(in, CsrDecoder.Encoding.TEXT);
        }
    }

    @Test
    void verifyWhenSignatureFlippedThenBadSignature() throws Exception {
        byte[] der = csr.der();
        der[der.length - 5] ^= 0x01;
        DecodedCsr d = CsrDecoder.decode(der, CsrDecoder.Encoding.PKCS10);
        assertThatThrownBy(() -> CsrDecoder.verifyProofOfPossession(d)).isInstanceOf(CsrException.class)
                .extracting(e -> ((CsrException) e).kind()).isEqualTo(CsrException.Kind.BAD_SIGNATURE);
    }

    @Test
    void verifyWhenTestdataFromRealClientsThenEachAlgorithmVerifies() throws Exception {
        // mbedTLS writes ECDSA with explicit NULL parameters; keytool, OpenSSL RSA and Ed25519 too.
        for (String file : new String[] {"mbedtls-p256.csr", "keytool-p256.csr", "openssl-p384.csr",
            "openssl-rsa2048.csr", "openssl-ed25519.csr", "openssl-secp256k1.csr"}) {
            byte[] body = CsrTestdataIT.read(file);
            DecodedCsr d = CsrDecoder.decode(body, CsrDecoder.Encoding.TEXT);
            CsrDecoder.verifyProofOfPossession(d);
        }
    }

    @Test
    void verifyWhenSha1SignatureThenRefusedNamingWhatIsAccepted() throws Exception {
        org.bouncycastle.pkcs.PKCS10CertificationRequest sha1 =
                new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                        new org.bouncycastle.asn1.x500.X500Name("CN=old"), csr.keys().getPublic())
                        .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA1withECDSA")
                                .build(csr.keys().getPrivate()));
        DecodedCsr d = CsrDecoder.decode(sha1.getEncoded(), CsrDecoder.Encoding.PKCS10);
        assertThatThrownBy(() -> CsrDecoder.verifyProofOfPossession(d)).isInstanceOf(CsrException.class)
                .hasMessageContaining("1.2.840.10045.4.1").hasMessageContaining("SHA-256 or stronger");
    }

    @Test
    void verifyWhenSignedByAnotherKeyThenBadSignature() throws Exception {
        TestCsrs.Csr other = TestCsrs.ecP256("other");
        org.bouncycastle.pkcs.PKCS10CertificationRequest forged =
                new org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder(
                        new org.bouncycastle.asn1.x500.X500Name("CN=victim"), csr.keys().getPublic())
                        .build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA")
                                .build(other.keys().getPrivate()));
        DecodedCsr d = CsrDecoder.decode(forged.getEncoded(), CsrDecoder.Encoding.PKCS10);
        assertThatThrownBy(() -> CsrDecoder.verifyProofOfPossession(d)).isInstanceOf(CsrException.class)
                .hasMessageContaining("does not verify");
    }

    private static void assertMalformed(byte[] body, CsrDecoder.Encoding e) {
        assertThatThrownBy(() -> CsrDecoder.decode(body, e)).as(new String(body, StandardCharsets.ISO_8859_1))
                .isInstanceOf(CsrException.class)
                .extracting(x -> ((CsrException) x).kind()).isEqualTo(CsrException.Kind.MALFORMED);
    }
}
