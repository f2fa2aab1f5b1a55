package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.URI;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
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
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.operator.ContentSigner;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import dev.trent.ca.CaCeremony;
import dev.trent.ca.Issuer;
import dev.trent.ca.KeystoreCaSigner;
import dev.trent.pki.Asn1Times;
import dev.trent.pki.KeyIds;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;

/**
 * {@link CertificateFactory} assembles the TBSCertificate itself from per-issuer parts; these
 * pin its DER, byte for byte, to what Bouncy Castle's {@link X509v3CertificateBuilder} builds from
 * the same content (the way Trent built every certificate before), for every kind and every
 * profile switch that changes the extensions.
 */
class CertificateFactoryTest {

    private static CaCeremony.Hierarchy ca;
    private static Issuer issuer;
    private static SubjectPublicKeyInfo deviceKey;
    private static SubjectPublicKeyInfo rsaKey;
    private static AlgorithmIdentifier algorithm;

    private final Instant notBefore = Instant.parse("2026-12-04T10:00:00Z");
    private final Instant notAfter = notBefore.plus(365, ChronoUnit.DAYS);
    private final BigInteger serial = new BigInteger("81f2a0c3d4e5f60718293a4b5c6d7e8f", 16);

    @BeforeAll
    static void issuer() throws Exception {
        ca = new CaCeremony(new SecureRandom(), Clock.systemUTC())
                .createHierarchy(KeyType.EC_P256, "Trent", Duration.ofDays(3650), Duration.ofDays(1000));
        issuer = issuer("https://pki.fleet.example:8443", "0123abcd");
        algorithm = issuer.signer().contentSigner().getAlgorithmIdentifier();
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(new ECGenParameterSpec("secp256r1"));
        deviceKey = SubjectPublicKeyInfo.getInstance(ec.generateKeyPair().getPublic().getEncoded());
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        rsaKey = SubjectPublicKeyInfo.getInstance(rsa.generateKeyPair().getPublic().getEncoded());
    }

    private static Issuer issuer(String base, String urlId) {
        return new Issuer("0123abcd0123abcd", new KeystoreCaSigner(ca.intermediate().privateKey(),
                ca.intermediate().chain()), URI.create(base + "/crl/" + urlId + ".crl"), URI.create(base + "/ocsp"),
                URI.create(base + "/ca/" + urlId + ".crt"));
    }

    private static CertificateProfile profile(boolean ocsp, boolean caIssuers, List<ExtendedKeyUsageName> eku) {
        return new CertificateProfile("device", Duration.ofDays(365), Set.of(KeyType.EC_P256, KeyType.RSA), 2048,
                List.of(KeyUsageName.digitalSignature), eku, true, false, 4, ocsp, caIssuers, 0);
    }

    @ParameterizedTest(name = "ocsp={0} caIssuers={1} dnsNames={2} rsa={3}")
    @CsvSource({
        "true, true, 0, false", "true, false, 0, false", "false, true, 0, false", "false, false, 0, false",
        "true, false, 1, false", "false, true, 3, false", "true, true, 0, true", "false, false, 2, true"})
    void deviceTbsWhenBuiltThenTheBytesBouncyCastlesBuilderMakes(boolean ocsp, boolean caIssuers, int dnsNames,
            boolean rsa) throws Exception {
        List<String> names = new ArrayList<>();
        for (int n = 0; n < dnsNames; n++) {
            names.add("gw" + n + ".fleet.example");
        }
        CertificateProfile profile = profile(ocsp, caIssuers,
                List.of(ExtendedKeyUsageName.clientAuth, ExtendedKeyUsageName.serverAuth));
        CertificateTemplate t = new CertificateTemplate(issuer, profile, serial, "sensor-0042", names,
                rsa ? rsaKey : deviceKey, rsa ? KeyType.RSA : KeyType.EC_P256, notBefore, notAfter);

        byte[] expected = reference(t);
        CertificateFactory.Tbs tbs = CertificateFactory.tbs(t, algorithm);

        assertThat(tbs.der()).isEqualTo(expected);
        assertThat(tbs.structure().getEncoded(ASN1Encoding.DER)).isEqualTo(expected);
    }

    @Test
    void tlsServerAndOcspResponderTbsWhenBuiltThenTheBytesBouncyCastlesBuilderMakes() throws Exception {
        X509v3CertificateBuilder tls = endEntity("trent.fleet.example", KeyUsage.digitalSignature,
                new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        tls.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "trent.fleet.example"), new GeneralName(GeneralName.dNSName, "localhost"),
            new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.iPAddress, "::1")}));
        statusPointers(tls, true, true);
        assertThat(CertificateFactory.tlsServerTbs(issuer, serial, "trent.fleet.example", deviceKey,
                List.of("trent.fleet.example", "localhost"), List.of("127.0.0.1", "::1"), notBefore, notAfter,
                algorithm).der()).isEqualTo(tbsOf(tls));

        X509v3CertificateBuilder responder = endEntity("ocsp-responder", KeyUsage.digitalSignature,
                new ExtendedKeyUsage(KeyPurposeId.id_kp_OCSPSigning));
        responder.addExtension(org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers.id_pkix_ocsp_nocheck, false,
                org.bouncycastle.asn1.DERNull.INSTANCE);
        assertThat(CertificateFactory.ocspResponderTbs(issuer, serial, "ocsp-responder", deviceKey, notBefore,
                notAfter, algorithm).der()).isEqualTo(tbsOf(responder));
    }

    @Test
    void issuerWhenItsUrlsChangeThenTheNewInstanceCarriesTheNewUrls() throws Exception {
        Issuer moved = issuer("https://pki2.fleet.example", "0123abcd0123");
        CertificateProfile profile = profile(true, true, List.of(ExtendedKeyUsageName.clientAuth));
        CertificateTemplate before = new CertificateTemplate(issuer, profile, serial, "sensor-0042", List.of(),
                deviceKey, KeyType.EC_P256, notBefore, notAfter);
        CertificateTemplate after = new CertificateTemplate(moved, profile, serial, "sensor-0042", List.of(),
                deviceKey, KeyType.EC_P256, notBefore, notAfter);

        CertificateFactory.tbs(before, algorithm); // the first issuer's parts are made and kept
        byte[] tbs = CertificateFactory.tbs(after, algorithm).der();

        assertThat(tbs).isEqualTo(reference(after));
        assertThat(new String(tbs, java.nio.charset.StandardCharsets.ISO_8859_1))
                .contains("https://pki2.fleet.example/crl/0123abcd0123.crl")
                .doesNotContain("https://pki.fleet.example");
    }

    @Test
    void signedWhenAssembledThenItsTbsIsTheBuiltOneAndTheIssuerKeyVerifiesIt() throws Exception {
        CertificateTemplate t = new CertificateTemplate(issuer, profile(true, false,
                List.of(ExtendedKeyUsageName.clientAuth)), serial, "sensor-0042", List.of(), deviceKey,
                KeyType.EC_P256, notBefore, notAfter);
        CertificateFactory.Tbs tbs = CertificateFactory.tbs(t, algorithm);

        X509CertificateHolder signed = CertificateFactory.signTbs(tbs, issuer.signer().contentSigner(), "a test");

        assertThat(signed.toASN1Structure().getTBSCertificate().getEncoded(ASN1Encoding.DER)).isEqualTo(tbs.der());
        assertThat(signed.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
                .build(issuer.certificate()))).isTrue();
    }

    // ------------------------------------------------------------ the reference: Bouncy Castle's builder

    private byte[] reference(CertificateTemplate t) throws Exception {
        int bits = 0;
        for (KeyUsageName u : t.profile().keyUsage()) {
            bits |= u.bit();
        }
        if (t.keyType() == KeyType.RSA) {
            bits |= KeyUsage.keyEncipherment;
        }
        KeyPurposeId[] ekus = t.profile().extendedKeyUsage().stream()
                .map(e -> KeyPurposeId.getInstance(new ASN1ObjectIdentifier(e.oid()))).toArray(KeyPurposeId[]::new);
        X509v3CertificateBuilder b = endEntity(t.issuer(), t.deviceId(), t.publicKey(), bits, new ExtendedKeyUsage(ekus));
        if (!t.dnsNames().isEmpty()) {
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(t.dnsNames().stream()
                    .map(n -> new GeneralName(GeneralName.dNSName, n)).toArray(GeneralName[]::new)));
        }
        statusPointers(b, t.issuer(), t.profile().ocspUrl(), t.profile().caIssuersUrl());
        return tbsOf(b);
    }

    private X509v3CertificateBuilder endEntity(String name, int keyUsage, ExtendedKeyUsage eku) throws Exception {
        return endEntity(issuer, name, deviceKey, keyUsage, eku);
    }

    private X509v3CertificateBuilder endEntity(Issuer from, String name, SubjectPublicKeyInfo key, int keyUsage,
            ExtendedKeyUsage eku) throws Exception {
        X509v3CertificateBuilder b = new X509v3CertificateBuilder(
                org.bouncycastle.asn1.x500.X500Name.getInstance(
                        from.certificate().getSubjectX500Principal().getEncoded()),
                serial, Asn1Times.time(notBefore), Asn1Times.time(notAfter), CertificateFactory.subject(name), key);
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
        b.addExtension(Extension.extendedKeyUsage, false, eku);
        b.addExtension(Extension.subjectKeyIdentifier, false, new JcaX509ExtensionUtils().createSubjectKeyIdentifier(key));
        b.addExtension(Extension.authorityKeyIdentifier, false,
                new AuthorityKeyIdentifier(KeyIds.subjectKeyId(from.certificate())));
        return b;
    }

    private void statusPointers(X509v3CertificateBuilder b, boolean ocsp, boolean caIssuers) throws Exception {
        statusPointers(b, issuer, ocsp, caIssuers);
    }

    private static void statusPointers(X509v3CertificateBuilder b, Issuer from, boolean ocsp, boolean caIssuers)
            throws Exception {
        b.addExtension(Extension.cRLDistributionPoints, false, new CRLDistPoint(new DistributionPoint[] {
            new DistributionPoint(new DistributionPointName(new GeneralNames(new GeneralName(
                    GeneralName.uniformResourceIdentifier, from.crlUrl().toString()))), null, null)}));
        List<AccessDescription> access = new ArrayList<>();
        if (ocsp) {
            access.add(new AccessDescription(AccessDescription.id_ad_ocsp,
                    new GeneralName(GeneralName.uniformResourceIdentifier, from.ocspUrl().toString())));
        }
        if (caIssuers) {
            access.add(new AccessDescription(AccessDescription.id_ad_caIssuers,
                    new GeneralName(GeneralName.uniformResourceIdentifier, from.caIssuersUrl().toString())));
        }
        if (!access.isEmpty()) {
            b.addExtension(Extension.authorityInfoAccess, false,
                    new AuthorityInformationAccess(access.toArray(AccessDescription[]::new)));
        }
    }

    private static byte[] tbsOf(X509v3CertificateBuilder b) throws Exception {
        ContentSigner standIn = new ContentSigner() {
            @Override
            public AlgorithmIdentifier getAlgorithmIdentifier() {
                return algorithm;
            }

            @Override
            public java.io.OutputStream getOutputStream() {
                return java.io.OutputStream.nullOutputStream();
            }

            @Override
            public byte[] getSignature() {
                return new byte[0];
            }
        };
        return b.build(standIn).toASN1Structure().getTBSCertificate().getEncoded(ASN1Encoding.DER);
    }
}
