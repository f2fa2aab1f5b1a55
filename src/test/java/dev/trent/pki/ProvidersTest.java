package dev.trent.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Locale;

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
}
