package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.math.BigInteger;
import java.net.URI;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import dev.trent.ca.CaCeremony;
import dev.trent.ca.Issuer;
import dev.trent.ca.KeystoreCaSigner;
import dev.trent.domain.DomainException;
import dev.trent.inventory.CertificateReservations;
import dev.trent.inventory.CertificateStore;
import dev.trent.pki.Hashes;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;

/** Each issuance stage alone, against a real CA key (no database: the store is a mock). */
class IssuanceStagesTest {

    private static Issuer issuer;
    private static CertificateProfile profile;
    private static SubjectPublicKeyInfo key;
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2030-01-01T00:00:00.700Z"), ZoneOffset.UTC);

    @BeforeAll
    static void ca() throws Exception {
        CaCeremony.Hierarchy ca = new CaCeremony(new SecureRandom(), Clock.offset(CLOCK, Duration.ofDays(-1)))
                .createHierarchy(KeyType.EC_P256, "Trent", Duration.ofDays(3650), Duration.ofDays(365));
        issuer = new Issuer("0123456789abcdef", new KeystoreCaSigner(ca.intermediate().privateKey(),
                ca.intermediate().chain()), URI.create("https://pki.example/crl/01234567.crl"),
                URI.create("https://pki.example/ocsp"), URI.create("https://pki.example/ca/01234567.crt"));
        profile = new CertificateProfile("device", Duration.ofDays(90), Set.of(KeyType.EC_P256), 2048,
                List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.clientAuth), true, false, 2);
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        key = SubjectPublicKeyInfo.getInstance(g.generateKeyPair().getPublic().getEncoded());
    }

    @AfterEach
    void clearSynchronization() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.clearSynchronization();
        }
    }

    private static Issuance device(CertificateProfile p, List<String> dnsNames) {
        return new Issuance(new Issuance.Subject(PreSigningLinter.Kind.DEVICE, issuer, p, p.name(), "sensor-1",
                dnsNames, List.of(), key, "ab".repeat(32), KeyType.EC_P256, p.validity(), 7L), BigInteger.TEN);
    }

    private static Issuance own(PreSigningLinter.Kind kind, String name, List<String> dnsNames, List<String> ips) {
        return new Issuance(new Issuance.Subject(kind, issuer, null, "own", name, dnsNames, ips, key, "cd".repeat(32),
                KeyType.EC_P256, Duration.ofDays(7), null), BigInteger.valueOf(11));
    }

    private static final IssuanceStage WINDOW = new IssuanceStages.ValidityWindow(CLOCK, Duration.ofMinutes(5));

    @Test
    void validityWindowWhenIssuedThenBackdatedWholeSecondsAndNeverOutlivesTheIssuer() {
        Issuance i = device(profile, List.of());
        WINDOW.apply(i);
        assertThat(i.notBefore()).isEqualTo(Instant.parse("2029-12-31T23:55:00Z"));
        assertThat(i.notAfter()).isEqualTo(Instant.parse("2030-04-01T00:00:00Z"));

        CertificateProfile longer = new CertificateProfile("long", Duration.ofDays(4000), Set.of(KeyType.EC_P256),
                2048, List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.clientAuth), false, false, 0);
        Issuance clamped = device(longer, List.of());
        WINDOW.apply(clamped);
        assertThat(clamped.notAfter()).isEqualTo(issuer.certificate().getNotAfter().toInstant());
    }

    @Test
    void deviceStagesWhenComposedThenTheSignedCertificateCarriesExactlyTheLintedTbs() throws Exception {
        CertificateReservations store = mock(CertificateReservations.class);
        when(store.reserve(any())).thenReturn(3L);
        TransactionSynchronizationManager.initSynchronization();
        Issuance i = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(), new IssuanceStages.LintTbs(),
                new IssuanceStages.CheckSize(), new IssuanceStages.Reserve(store, CLOCK), new IssuanceStages.Sign()),
                device(profile, List.of("gw-1.example")));

        X509CertificateHolder cert = new X509CertificateHolder(i.der());
        assertThat(cert.toASN1Structure().getTBSCertificate().getEncoded("DER")).isEqualTo(i.tbs());
        assertThat(cert.isSignatureValid(new JcaContentVerifierProviderBuilder().build(issuer.certificate()))).isTrue();
        assertThat(cert.getSerialNumber()).isEqualTo(BigInteger.TEN);
        assertThat(cert.getSubject().toString()).isEqualTo("CN=sensor-1");
    }

    @Test
    void lintWhenTbsBreaksTheProfileThenRefusedBeforeAnythingIsSigned() {
        // The TBS carries DNS names the profile does not allow (built for one profile, linted for another).
        Issuance i = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs()),
                device(profile, List.of("a.example", "b.example")));
        CertificateProfile noNames = new CertificateProfile("strict", Duration.ofDays(90), Set.of(KeyType.EC_P256),
                2048, List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.serverAuth), false, false, 0);

        assertThatThrownBy(() -> PreSigningLinter.lint(i.tbs(), new PreSigningLinter.Rules(
                PreSigningLinter.Kind.DEVICE, issuer, i.signer().getAlgorithmIdentifier(), noNames, KeyType.EC_P256)))
                .isInstanceOf(PreSigningLinter.LintException.class)
                .hasMessageContaining("allows no DNS names")
                .hasMessageContaining("more DNS names")
                .hasMessageContaining("extendedKeyUsage differs");
        assertThatThrownBy(() -> PreSigningLinter.lint(i.tbs(), new PreSigningLinter.Rules(
                PreSigningLinter.Kind.DEVICE, issuer, new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                        org.bouncycastle.asn1.x9.X9ObjectIdentifiers.ecdsa_with_SHA512), profile, KeyType.EC_P256)))
                .hasMessageContaining("signature algorithm differs");
        assertThat(i.der()).isNull();
    }

    @Test
    void lintWhenSubjectKeyIsTheIssuersThenRefused() throws Exception {
        SubjectPublicKeyInfo issuerKey = SubjectPublicKeyInfo.getInstance(issuer.certificate().getPublicKey().getEncoded());
        Issuance i = new Issuance(new Issuance.Subject(PreSigningLinter.Kind.DEVICE, issuer, profile, "device",
                "sensor-1", List.of(), List.of(), issuerKey, "00".repeat(32), KeyType.EC_P256, profile.validity(), null),
                BigInteger.TEN);
        assertThatThrownBy(() -> IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(),
                new IssuanceStages.LintTbs()), i)).hasMessageContaining("issuer's own key");
    }

    @Test
    void lintWhenOcspResponderThenItsOwnRulesApplyAndATlsCertificateIsNotOne() {
        Issuance responder = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(),
                new IssuanceStages.LintTbs()), own(PreSigningLinter.Kind.OCSP_RESPONDER, "Trent OCSP", List.of(),
                        List.of()));
        Issuance tls = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(), new IssuanceStages.LintTbs()),
                own(PreSigningLinter.Kind.TLS_SERVER, "localhost", List.of("localhost"), List.of("127.0.0.1")));

        assertThatThrownBy(() -> PreSigningLinter.lint(tls.tbs(), new PreSigningLinter.Rules(
                PreSigningLinter.Kind.OCSP_RESPONDER, issuer, tls.signer().getAlgorithmIdentifier(), null, null)))
                .hasMessageContaining("id-kp-OCSPSigning")
                .hasMessageContaining("id-pkix-ocsp-nocheck")
                .hasMessageContaining("no subjectAltName")
                .hasMessageContaining("no CRL distribution point");
        assertThatThrownBy(() -> PreSigningLinter.lint(responder.tbs(), new PreSigningLinter.Rules(
                PreSigningLinter.Kind.TLS_SERVER, issuer, responder.signer().getAlgorithmIdentifier(), null, null)))
                .hasMessageContaining("at least one DNS name")
                .hasMessageContaining("serverAuth");
    }

    @Test
    void checkSizeWhenProfileLimitIsExceededThenCertificateTooLarge() {
        CertificateProfile tiny = new CertificateProfile("tiny", Duration.ofDays(90), Set.of(KeyType.EC_P256), 2048,
                List.of(KeyUsageName.digitalSignature), List.of(ExtendedKeyUsageName.clientAuth), false, false, 0,
                true, false, 300);
        Issuance i = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs()), device(tiny, List.of()));

        assertThatThrownBy(() -> new IssuanceStages.CheckSize().apply(i)).isInstanceOfSatisfying(
                DomainException.class, e -> assertThat(e.getMessage()).contains("300"));
    }

    @Test
    void reserveWhenCommittedThenHashOfTheTbsIsReservedAndARollbackAbandonsIt() {
        CertificateReservations store = mock(CertificateReservations.class);
        when(store.reserve(any())).thenReturn(42L);
        TransactionSynchronizationManager.initSynchronization();
        Issuance i = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(),
                new IssuanceStages.Reserve(store, CLOCK)), device(profile, List.of()));

        org.mockito.ArgumentCaptor<CertificateStore.Pending> pending =
                org.mockito.ArgumentCaptor.forClass(CertificateStore.Pending.class);
        verify(store).reserve(pending.capture());
        assertThat(pending.getValue().tbsSha256()).isEqualTo(Hashes.sha256Hex(i.tbs()));
        assertThat(pending.getValue().serial()).isEqualTo("a");
        assertThat(i.reservationId()).isEqualTo(42L);
        assertThat(i.issuedAt()).isEqualTo(CLOCK.instant());

        List<TransactionSynchronization> hooks = TransactionSynchronizationManager.getSynchronizations();
        hooks.forEach(h -> h.afterCompletion(TransactionSynchronization.STATUS_COMMITTED));
        verify(store, never()).abandon(42L);
        hooks.forEach(h -> h.afterCompletion(TransactionSynchronization.STATUS_ROLLED_BACK));
        verify(store).abandon(42L);
    }

    @Test
    void reserveWhenKeyIsBlockedThenKeyRefusedAndNothingSigned() {
        CertificateReservations store = mock(CertificateReservations.class);
        when(store.reserve(any())).thenThrow(new CertificateStore.KeyBlockedException());
        TransactionSynchronizationManager.initSynchronization();
        Issuance i = device(profile, List.of());

        assertThatThrownBy(() -> IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(),
                new IssuanceStages.Reserve(store, CLOCK), new IssuanceStages.Sign()), i))
                .isInstanceOfSatisfying(DomainException.class, e -> assertThat(e.getMessage()).contains("compromised"));
        assertThat(i.der()).isNull();
        assertThat(TransactionSynchronizationManager.getSynchronizations()).isEmpty();
    }

    @Test
    void storeWhenSignedThenDerAndTokenStoredWithTheReservation() {
        CertificateReservations store = mock(CertificateReservations.class);
        when(store.reserve(any())).thenReturn(5L);
        TransactionSynchronizationManager.initSynchronization();
        Issuance i = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(),
                new IssuanceStages.Reserve(store, CLOCK), new IssuanceStages.Sign(), new IssuanceStages.Store(store)),
                device(profile, List.of()));

        // The hash of the TBS inside the signed DER: the reserved one.
        @SuppressWarnings("unchecked")
        org.mockito.ArgumentCaptor<java.util.function.Supplier<? extends RuntimeException>> keyBlocked =
                org.mockito.ArgumentCaptor.forClass(java.util.function.Supplier.class);
        verify(store).storeSigned(org.mockito.ArgumentMatchers.eq(5L), org.mockito.ArgumentMatchers.eq(i.der()),
                org.mockito.ArgumentMatchers.eq(Hashes.sha256Hex(i.tbs())), org.mockito.ArgumentMatchers.eq(7L),
                org.mockito.ArgumentMatchers.eq(CLOCK.instant()), keyBlocked.capture());
        // A key blocked while it was being signed: the enrollment is refused as for a blocked key.
        assertThat(keyBlocked.getValue().get()).isInstanceOfSatisfying(DomainException.class, e -> {
            assertThat(e.code()).isEqualTo("key-refused");
            assertThat(e.getMessage()).contains("while the certificate was being issued");
        });
    }

    @Test
    void signWhenNothingWasReservedThenRefusedAndNothingSigned() {
        Issuance i = IssuanceStage.run(List.of(WINDOW, new IssuanceStages.BuildTbs(), new IssuanceStages.LintTbs()),
                device(profile, List.of()));

        assertThatThrownBy(() -> new IssuanceStages.Sign().apply(i)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("reserved");
        assertThat(i.der()).isNull();
    }
}
