package dev.trent.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Locale;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.jce.interfaces.ECPublicKey;
import org.junit.jupiter.api.Test;

class ProvidersTest {

    private static boolean linuxX64() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch");
        return os.contains("linux") && (arch.equals("amd64") || arch.equals("x86_64"));
    }

    @Test
    void nativeProviderDoesTheSignatureMathOnLinuxX64() {
        boolean ci = "true".equals(System.getenv("CI"));
        assumeTrue(ci || linuxX64(), "the native provider ships for Linux x86-64 only; this machine is "
                + System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        assertThat(Providers.signatures("SHA256withECDSA").getName()).isEqualTo("AmazonCorrettoCryptoProvider");
        assertThat(Providers.signatures("SHA256withRSA").getName()).isEqualTo("AmazonCorrettoCryptoProvider");
        assertThat(Providers.describe()).contains("(native)");
    }

    @Test
    void algorithmsTheNativeProviderLacksFallBackToBouncyCastle() {
        assertThat(Providers.signatures("SHA256withECDSAinP1363Format-not-a-name")).isSameAs(Providers.BC);
    }

    @Test
    void bothProvidersAgreeOnSignaturesOverKeysInEitherForm() throws Exception {
        for (var generatorProvider : new java.security.Provider[] {Providers.BC, Providers.signatures("SHA256withECDSA")}) {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", generatorProvider);
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            KeyPair keys = generator.generateKeyPair();
            byte[] message = "a TBSCertificate".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance("SHA256withECDSA", Providers.signatures("SHA256withECDSA"));
            signer.initSign(keys.getPrivate());
            signer.update(message);
            byte[] value = signer.sign();
            Signature bc = Signature.getInstance("SHA256withECDSA", Providers.BC);
            bc.initVerify(keys.getPublic());
            bc.update(message);
            assertThat(bc.verify(value)).isTrue();
            message[0] ^= 1;
            bc.initVerify(keys.getPublic());
            bc.update(message);
            assertThat(bc.verify(value)).isFalse();
        }
    }

    @Test
    void publicKeysAreDecodedNativelyWhereOfferedAndVerifyWithBothProviders() throws Exception {
        String[][] cases = {{"EC", "secp256r1", "SHA256withECDSA"}, {"EC", "secp384r1", "SHA384withECDSA"},
                {"RSA", "2048", "SHA256withRSA"}, {"Ed25519", null, "Ed25519"}};
        for (String[] c : cases) {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(c[0], Providers.BC);
            if (c[0].equals("EC")) {
                generator.initialize(new ECGenParameterSpec(c[1]));
            } else if (c[0].equals("RSA")) {
                generator.initialize(Integer.parseInt(c[1]));
            }
            KeyPair keys = generator.generateKeyPair();
            var key = Providers.publicKey(SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()));
            if (linuxX64() && !c[0].equals("Ed25519")) {
                assertThat(key.getClass().getName()).as(c[0] + " " + c[1]).startsWith("com.amazon.corretto.");
            }
            assertThat(key.getEncoded()).as(c[0] + " " + c[1]).isEqualTo(keys.getPublic().getEncoded());
            byte[] message = "a CertificationRequestInfo".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(c[2], Providers.BC);
            signer.initSign(keys.getPrivate());
            signer.update(message);
            byte[] value = signer.sign();
            var verifying = Providers.verifying(c[2], key);
            if (linuxX64()) {
                assertThat(verifying.getName()).as(c[0]).isEqualTo(c[0].equals("Ed25519") ? "BC" : "AmazonCorrettoCryptoProvider");
            }
            for (var verifierProvider : new java.security.Provider[] {Providers.BC, verifying}) {
                Signature verifier = Signature.getInstance(c[2], verifierProvider);
                verifier.initVerify(key);
                verifier.update(message);
                assertThat(verifier.verify(value)).as(c[0] + " " + c[1] + " with " + verifierProvider.getName()).isTrue();
            }
        }
    }

    @Test
    void aCompressedPointIsStillAcceptedAndAPointOffTheCurveIsNot() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC", Providers.BC);
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = generator.generateKeyPair();
        ECPublicKey bcKey = (ECPublicKey) keys.getPublic();
        SubjectPublicKeyInfo uncompressed = SubjectPublicKeyInfo.getInstance(bcKey.getEncoded());
        SubjectPublicKeyInfo compressed = new SubjectPublicKeyInfo(uncompressed.getAlgorithm(),
                bcKey.getQ().getEncoded(true));
        var key = Providers.publicKey(compressed);
        assertThat(((java.security.interfaces.ECPublicKey) key).getW())
                .isEqualTo(((java.security.interfaces.ECPublicKey) keys.getPublic()).getW());

        byte[] point = uncompressed.getPublicKeyData().getOctets();
        point[point.length - 1] ^= 1; // y no longer matches x
        SubjectPublicKeyInfo offCurve = new SubjectPublicKeyInfo(uncompressed.getAlgorithm(), point);
        assertThatThrownBy(() -> Providers.publicKey(offCurve)).isInstanceOf(java.io.IOException.class);
    }
}
