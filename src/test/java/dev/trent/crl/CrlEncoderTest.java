package dev.trent.crl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509CRL;
import java.security.cert.X509CRLEntry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x509.CRLNumber;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.cert.X509CRLHolder;
import org.bouncycastle.cert.X509v2CRLBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.junit.jupiter.api.Test;

import dev.trent.ca.CaCeremony;
import dev.trent.ca.KeystoreCaSigner;
import dev.trent.profile.KeyType;

class CrlEncoderTest {

    private final CaCeremony.KeyAndChain ca = new CaCeremony(new SecureRandom(), Clock.systemUTC())
            .createHierarchy(KeyType.EC_P256, "Test", Duration.ofDays(3650), Duration.ofDays(365)).intermediate();
    private final KeystoreCaSigner signer = new KeystoreCaSigner(ca.privateKey(), ca.chain());
    private final Instant thisUpdate = Instant.parse("2026-11-22T10:00:00Z");
    private final Instant nextUpdate = Instant.parse("2026-11-23T10:00:00Z");

    private static final CrlEncoder.Entry[] ENTRIES = {
        new CrlEncoder.Entry(new BigInteger("ff00aa11", 16), Instant.parse("2026-11-20T08:00:00Z"), 1,
                Instant.parse("2026-11-19T00:00:00Z")),
        new CrlEncoder.Entry(BigInteger.ONE.shiftLeft(127).add(BigInteger.TEN), Instant.parse("2026-11-21T08:00:00Z"),
                null, null),
        new CrlEncoder.Entry(BigInteger.valueOf(12345), Instant.parse("2051-01-01T00:00:00Z"), 6, null),
    };

    @Test
    void finishWhenEntriesThenTbsIsByteForByteWhatBouncyCastlesBuilderMakes() throws Exception {
        byte[] ours;
        try (CrlEncoder enc = new CrlEncoder()) {
            for (CrlEncoder.Entry e : ENTRIES) {
                enc.add(e);
            }
            ours = enc.finish(ca.certificate(), signer.contentSigner(), thisUpdate, nextUpdate, BigInteger.valueOf(42));
        }

        X509v2CRLBuilder b = new X509v2CRLBuilder(new JcaX509CertificateHolder(ca.certificate()).getSubject(),
                Date.from(thisUpdate));
        b.setNextUpdate(Date.from(nextUpdate));
        for (CrlEncoder.Entry e : ENTRIES) {
            ExtensionsGenerator g = new ExtensionsGenerator();
            if (e.reasonCode() != null) {
                g.addExtension(Extension.reasonCode, false, CRLReason.lookup(e.reasonCode()));
            }
            if (e.invalidityDate() != null) {
                g.addExtension(Extension.invalidityDate, false,
                        new org.bouncycastle.asn1.ASN1GeneralizedTime(Date.from(e.invalidityDate())));
            }
            Extensions ext = g.isEmpty() ? null : g.generate();
            b.addCRLEntry(e.serial(), Date.from(e.revocationDate()), ext);
        }
        b.addExtension(Extension.authorityKeyIdentifier, false,
                new org.bouncycastle.asn1.x509.AuthorityKeyIdentifier(dev.trent.pki.KeyIds.subjectKeyId(ca.certificate())));
        b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(42)));
        X509CRLHolder theirs = b.build(signer.contentSigner());

        X509CRLHolder parsed = new X509CRLHolder(ours);
        assertThat(parsed.toASN1Structure().getTBSCertList().getEncoded(ASN1Encoding.DER))
                .isEqualTo(theirs.toASN1Structure().getTBSCertList().getEncoded(ASN1Encoding.DER));
        assertThat(parsed.isSignatureValid(new org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder()
                .build(ca.certificate()))).isTrue();
    }

    @Test
    void finishWhenDistributionPointAskedForThenCriticalIdpAsBouncyCastleEncodesIt() throws Exception {
        List<java.net.URI> urls = List.of(java.net.URI.create("http://localhost:8080/crl/0123abcd.crl"),
                java.net.URI.create("http://localhost:8080/crl/0123abcdef.crl"));
        byte[] ours;
        try (CrlEncoder enc = new CrlEncoder()) {
            enc.add(ENTRIES[0]);
            ours = enc.finish(ca.certificate(), signer.contentSigner(), thisUpdate, nextUpdate, BigInteger.valueOf(7),
                    urls);
        }
        X509v2CRLBuilder b = new X509v2CRLBuilder(new JcaX509CertificateHolder(ca.certificate()).getSubject(),
                Date.from(thisUpdate));
        b.setNextUpdate(Date.from(nextUpdate));
        ExtensionsGenerator g = new ExtensionsGenerator();
        g.addExtension(Extension.reasonCode, false, CRLReason.lookup(ENTRIES[0].reasonCode()));
        g.addExtension(Extension.invalidityDate, false,
                new org.bouncycastle.asn1.ASN1GeneralizedTime(Date.from(ENTRIES[0].invalidityDate())));
        b.addCRLEntry(ENTRIES[0].serial(), Date.from(ENTRIES[0].revocationDate()), g.generate());
        b.addExtension(Extension.authorityKeyIdentifier, false,
                new org.bouncycastle.asn1.x509.AuthorityKeyIdentifier(dev.trent.pki.KeyIds.subjectKeyId(ca.certificate())));
        b.addExtension(Extension.cRLNumber, false, new CRLNumber(BigInteger.valueOf(7)));
        b.addExtension(Extension.issuingDistributionPoint, true, new org.bouncycastle.asn1.x509.IssuingDistributionPoint(
                new org.bouncycastle.asn1.x509.DistributionPointName(new org.bouncycastle.asn1.x509.GeneralNames(
                        urls.stream().map(u -> new org.bouncycastle.asn1.x509.GeneralName(6, u.toString()))
                                .toArray(org.bouncycastle.asn1.x509.GeneralName[]::new))),
                true, false, null, false, false));
        X509CRLHolder theirs = b.build(signer.contentSigner());

        X509CRLHolder parsed = new X509CRLHolder(ours);
        assertThat(parsed.toASN1Structure().getTBSCertList().getEncoded(ASN1Encoding.DER))
                .isEqualTo(theirs.toASN1Structure().getTBSCertList().getEncoded(ASN1Encoding.DER));
        assertThat(parsed.getExtension(Extension.issuingDistributionPoint).isCritical()).isTrue();
    }

    @Test
    void finishWhenParsedByTheJdkThenEntriesReasonsAndSignatureAreRight() throws Exception {
        byte[] der;
        try (CrlEncoder enc = new CrlEncoder()) {
            for (CrlEncoder.Entry e : ENTRIES) {
                enc.add(e);
            }
            der = enc.finish(ca.certificate(), signer.contentSigner(), thisUpdate, nextUpdate, BigInteger.TWO);
        }
        X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509")
                .generateCRL(new ByteArrayInputStream(der));
        crl.verify(ca.certificate().getPublicKey());
        assertThat(crl.getVersion()).isEqualTo(2);
        assertThat(crl.getThisUpdate().toInstant()).isEqualTo(thisUpdate);
        assertThat(crl.getNextUpdate().toInstant()).isEqualTo(nextUpdate);
        assertThat(crl.getRevokedCertificates()).hasSize(3);
        X509CRLEntry first = crl.getRevokedCertificate(new BigInteger("ff00aa11", 16));
        assertThat(first.getRevocationReason()).isEqualTo(java.security.cert.CRLReason.KEY_COMPROMISE);
        assertThat(crl.getRevokedCertificate(BigInteger.valueOf(12345)).getRevocationDate().toInstant())
                .isEqualTo(Instant.parse("2051-01-01T00:00:00Z"));
        assertThat(crl.getRevokedCertificate(BigInteger.ONE.shiftLeft(127).add(BigInteger.TEN)).getRevocationReason())
                .isNull();
        assertThat(crl.getCriticalExtensionOIDs()).isNullOrEmpty();
        assertThat(crl.getNonCriticalExtensionOIDs())
                .containsExactlyInAnyOrder(Extension.authorityKeyIdentifier.getId(), Extension.cRLNumber.getId());
    }

    /**
     * mbedTLS (2.28, 3.6) refuses a CRL with any critical extension, in the CRL or in an entry;
     * RFC 5280 5.2.5 lets a full CRL go without the (critical) issuingDistributionPoint.
     */
    @Test
    void finishWhenEveryKindOfEntryThenNoExtensionAnywhereIsCritical() throws Exception {
        byte[] der;
        try (CrlEncoder enc = new CrlEncoder()) {
            for (CrlEncoder.Entry e : ENTRIES) {
                enc.add(e);
            }
            for (int code : new int[] {0, 1, 2, 3, 4, 5, 6, 8, 9, 10}) {
                enc.add(new CrlEncoder.Entry(BigInteger.valueOf(1000 + code), thisUpdate, code, thisUpdate));
            }
            der = enc.finish(ca.certificate(), signer.contentSigner(), thisUpdate, nextUpdate, BigInteger.TEN);
        }
        X509CRLHolder crl = new X509CRLHolder(der);

        assertThat(crl.getExtensions().getExtensionOIDs()).extracting(oid -> crl.getExtension(oid).isCritical())
                .containsOnly(false);
        assertThat(crl.getExtension(Extension.issuingDistributionPoint)).isNull();
        assertThat(crl.getRevokedCertificates()).hasSize(ENTRIES.length + 10);
        for (Object o : crl.getRevokedCertificates()) {
            org.bouncycastle.cert.X509CRLEntryHolder entry = (org.bouncycastle.cert.X509CRLEntryHolder) o;
            if (entry.hasExtensions()) {
                assertThat(entry.getExtensions().getCriticalExtensionOIDs()).as("entry %s", entry.getSerialNumber())
                        .isEmpty();
            }
        }
    }

    @Test
    void finishWhenNoEntriesThenListAbsentAndLongLengthsEncodeRight() throws Exception {
        byte[] der;
        try (CrlEncoder enc = new CrlEncoder()) {
            der = enc.finish(ca.certificate(), signer.contentSigner(), thisUpdate, nextUpdate, BigInteger.ONE);
        }
        X509CRL crl = (X509CRL) CertificateFactory.getInstance("X.509").generateCRL(new ByteArrayInputStream(der));
        crl.verify(ca.certificate().getPublicKey());
        assertThat(crl.getRevokedCertificates()).isNull();

        assertThat(CrlEncoder.headerLength(0x7f)).isEqualTo(2);
        assertThat(CrlEncoder.headerLength(0x80)).isEqualTo(3);
        assertThat(CrlEncoder.headerLength(0x10000)).isEqualTo(5);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        CrlEncoder.writeHeader(out, 0x30, 49_000_000);
        assertThat(out.toByteArray()).containsExactly(0x30, 0x84, 0x02, 0xeb, 0xae, 0x40);
    }
}
