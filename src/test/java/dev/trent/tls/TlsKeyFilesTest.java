package dev.trent.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The kept HTTPS key and chain: written owner-only, read back as written; names compared canonically. */
class TlsKeyFilesTest {

    @TempDir
    Path dir;

    private static KeyPair keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509Certificate certificate(KeyPair keys, GeneralName... names) throws Exception {
        X500Name subject = new X500Name("CN=trent-tls-test");
        Instant now = Instant.parse("2026-12-01T00:00:00Z");
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, BigInteger.valueOf(7), Date.from(now),
                Date.from(now.plusSeconds(86_400)), subject, keys.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
        return new JcaX509CertificateConverter().getCertificate(b.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    @Test
    void writeThenReadThenTheSameKeyAndChainOwnerOnly() throws Exception {
        KeyPair keys = keys();
        X509Certificate leaf = certificate(keys, new GeneralName(GeneralName.dNSName, "localhost"));
        X509Certificate other = certificate(keys(), new GeneralName(GeneralName.dNSName, "ca.example"));
        TlsKeyFiles files = new TlsKeyFiles(dir.resolve("tls"));

        files.write(keys.getPrivate(), List.of(leaf, other));
        TlsKeyFiles.Kept kept = files.read().orElseThrow();

        assertThat(kept.key().getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
        assertThat(kept.chain()).containsExactly(leaf, other);
        Path key = dir.resolve("tls/key.pem");
        if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("tls"))))
                    .isEqualTo("rwx------");
        }
    }

    @Test
    void readWhenNothingKeptOrAFileIsDamagedThenEmpty() throws Exception {
        TlsKeyFiles files = new TlsKeyFiles(dir.resolve("tls"));
        assertThat(files.read()).isEmpty();

        KeyPair keys = keys();
        files.write(keys.getPrivate(), List.of(certificate(keys, new GeneralName(GeneralName.dNSName, "localhost"))));
        Files.writeString(dir.resolve("tls/chain.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");

        assertThat(files.read()).isEmpty();
    }

    @Test
    void namesWhenTheSameAddressesAreSpelledDifferentlyThenEqual() throws Exception {
        X509Certificate cert = certificate(keys(), new GeneralName(GeneralName.dNSName, "LocalHost"),
                new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.iPAddress, "::1"));

        assertThat(TlsKeyFiles.names(cert)).isEqualTo(TlsKeyFiles.normalized(List.of("localhost", "127.0.0.1",
                "0:0:0:0:0:0:0:1")));
        assertThat(TlsKeyFiles.names(cert)).isNotEqualTo(TlsKeyFiles.normalized(List.of("localhost", "127.0.0.1")));
    }
}
