package dev.trent.issuance;

import dev.trent.pki.SerialNumbers;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.springframework.stereotype.Service;
import org.springframework.transaction.IllegalTransactionStateException;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.config.TrentProperties;
import dev.trent.domain.DomainException;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateStatus;
import dev.trent.inventory.CertificateReservations;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyType;

/**
 * The issuance pipeline after the request is authorised and the key accepted, as three short
 * compositions of the same stage types ({@link IssuanceStages}): fix the validity window, build
 * the exact TBSCertificate, lint those bytes, reserve them (serial and TBS hash committed as
 * PENDING on a connection of their own, before anything is signed), sign those TBS bytes, and
 * store the DER in the caller's transaction (ISSUED). A failure after the reservation leaves an
 * ABANDONED row and nothing issued; a crash leaves a PENDING row that {@link ReservationSweeper}
 * abandons. So no signature exists that the database does not know (Boulder's issuance cycle).
 */
@Service
public class IssuanceService {

    private final IssuerRegistry issuers;
    private final SerialNumbers serials;
    /** A device certificate (token, renewal, IDevID, keygen): enrollment decided who, which profile, which key. */
    private final List<IssuanceStage> device;
    /** Trent's own TLS server certificate. */
    private final List<IssuanceStage> tlsServer;
    /** A delegated OCSP responder certificate. */
    private final List<IssuanceStage> ocspResponder;
    private final io.micrometer.core.instrument.MeterRegistry registry;
    /** {@code trent.issuance} per profile (configured profiles: a small, fixed set). */
    private final java.util.Map<String, io.micrometer.core.instrument.Timer> latency =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The transactions of Trent's own certificates. Programmatic, so that this bean needs no proxy
     * and {@link #issue}, called inside an enrollment's transaction on every enrollment, is a plain
     * call rather than a pass through a transaction proxy's interceptor lookup and a reflective
     * invocation.
     */
    private final TransactionTemplate tx;

    IssuanceService(IssuerRegistry issuers, CertificateReservations reservations, Clock clock, SecureRandom random,
            TrentProperties properties, dev.trent.audit.AuditLog audit,
            io.micrometer.core.instrument.MeterRegistry registry, PlatformTransactionManager transactions) {
        this.tx = new TransactionTemplate(transactions);
        this.registry = registry;
        for (String profile : properties.profiles().keySet()) {
            timer(profile);
        }
        this.issuers = issuers;
        this.serials = new SerialNumbers(random);
        Flows flows = flows(clock, properties.issuance().backdate(), properties.mosquitto(), reservations, audit);
        this.device = flows.device();
        this.tlsServer = flows.tlsServer();
        this.ocspResponder = flows.ocspResponder();
    }

    /** The stages of each flow, in order (IssuanceFlowsTest checks lint, reserve, sign, store come in that order). */
    record Flows(List<IssuanceStage> device, List<IssuanceStage> tlsServer, List<IssuanceStage> ocspResponder) {
    }

    static Flows flows(Clock clock, Duration backdate, TrentProperties.Mosquitto broker,
            CertificateReservations reservations, dev.trent.audit.AuditLog audit) {
        IssuanceStage window = new IssuanceStages.ValidityWindow(clock, backdate);
        IssuanceStage build = new IssuanceStages.BuildTbs();
        IssuanceStage lint = new IssuanceStages.LintTbs();
        IssuanceStage reserve = new IssuanceStages.Reserve(reservations, clock);
        IssuanceStage sign = new IssuanceStages.Sign();
        IssuanceStage stored = new IssuanceStages.Store(reservations);
        IssuanceStage audited = new IssuanceStages.AuditIssued(audit);
        return new Flows(
                List.of(window, build, lint, new IssuanceStages.CheckSize(),
                        new IssuanceStages.DeviceIdNotReserved(broker), reserve, sign, stored),
                // The names are checked before the TBS is built.
                List.of(window, new IssuanceStages.TlsServerNames(), build, lint, reserve, sign, stored, audited),
                List.of(window, build, lint, reserve, sign, stored, audited));
    }

    /**
     * What the authorisation step decided: who, which profile, which names, which key.
     *
     * @param publicKeySha256 hex SHA-256 of the key's SubjectPublicKeyInfo DER (the key's identity)
     */
    public record Request(CertificateProfile profile, String deviceId, List<String> dnsNames,
            SubjectPublicKeyInfo publicKey, String publicKeySha256, KeyType keyType, Long tokenId) {
    }

    /**
     * Issues a certificate: the reservation commits on its own, the DER is stored inside the
     * caller's transaction. When {@code request.tokenId()} is set, that enrollment token is
     * marked used by this certificate in the statement that stores the DER.
     */
    public Certificate issue(Request request) {
        // MANDATORY propagation, checked here rather than by a transaction interceptor.
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            throw new IllegalTransactionStateException("a device certificate is issued inside the enrollment's "
                    + "transaction, which stores it");
        }
        long started = System.nanoTime();
        Certificate issued = issueTimed(request);
        timer(request.profile().name()).record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
        return issued;
    }

    /**
     * {@code trent.issuance}: time from template to signed DER of successful issuances (lint,
     * serial reservation, signature; the DER is stored with the caller's other writes, just
     * before its commit), by profile.
     */
    private io.micrometer.core.instrument.Timer timer(String profile) {
        return latency.computeIfAbsent(profile, p -> io.micrometer.core.instrument.Timer.builder("trent.issuance")
                .description("Issuance pipeline latency of successful issuances").tag("profile", p)
                .publishPercentileHistogram().minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofSeconds(10)).register(registry));
    }

    private Certificate issueTimed(Request request) {
        Issuance i = IssuanceStage.run(device, new Issuance(new Issuance.Subject(PreSigningLinter.Kind.DEVICE,
                issuers.active(), request.profile(), request.profile().name(), request.deviceId(), request.dnsNames(),
                List.of(), request.publicKey(), request.publicKeySha256(), request.keyType(),
                request.profile().validity(), request.tokenId()), serials.next()));
        return new Certificate(i.serialHex(), i.issuer().id(), request.deviceId(), request.profile().name(),
                CertificateFactory.subject(request.deviceId()).toString(), request.dnsNames(), CertificateStatus.ISSUED,
                request.keyType().name(), request.publicKeySha256(), i.notBefore(), i.notAfter(), i.issuedAt(), null,
                i.der());
    }

    /**
     * Refuses a device id that {@link TrentProperties.Mosquitto#reserves} (400
     * {@code device-id-reserved}): at token creation and again before any issuance.
     */
    public static void checkNotReserved(TrentProperties.Mosquitto broker, String deviceId, CertificateProfile profile) {
        if (broker.reserves(deviceId, profile.name())) {
            throw DomainException.invalid("device-id-reserved", "Device id reserved", "Device id '" + deviceId
                    + "' is the name of the Mosquitto client Trent administers the broker as "
                    + "(trent.mosquitto.username); a certificate with it would log in to the broker as that client.");
        }
    }

    /**
     * Issues a delegated OCSP responder certificate for {@code key} (RFC 6960 4.2.2.2): CN =
     * {@code name}, keyUsage digitalSignature, EKU id-kp-OCSPSigning, id-pkix-ocsp-nocheck (so
     * relying parties do not check its own status; hence a short lifetime), SKI and AKI, no
     * CDP or AIA. Recorded like every certificate (profile {@code ocsp-responder}) before it is
     * signed.
     */
    public X509Certificate issueOcspResponder(Issuer issuer, SubjectPublicKeyInfo key, String keySha256, String name,
            Duration validity) {
        return tx.execute(status -> ocspResponder(issuer, key, keySha256, name, validity));
    }

    private X509Certificate ocspResponder(Issuer issuer, SubjectPublicKeyInfo key, String keySha256, String name,
            Duration validity) {
        Issuance i = IssuanceStage.run(ocspResponder, new Issuance(new Issuance.Subject(
                PreSigningLinter.Kind.OCSP_RESPONDER, issuer, null, "ocsp-responder", name, List.of(), List.of(), key,
                keySha256, KeyType.EC_P256, validity, null), serials.next()));
        try {
            return new JcaX509CertificateConverter().getCertificate(i.holder());
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalStateException("cannot issue the OCSP responder certificate", e);
        }
    }

    /**
     * Issues Trent's own TLS server certificate with the active issuer, recorded like every
     * certificate (profile {@code tls-server}) before it is signed.
     *
     * @return the certificate and the issuer certificate that signed it
     */
    public List<X509Certificate> issueTlsServer(SubjectPublicKeyInfo key, String keySha256, List<String> dnsNames,
            List<String> ipAddresses, Duration validity) {
        return tx.execute(status -> tlsServer(key, keySha256, dnsNames, ipAddresses, validity));
    }

    private List<X509Certificate> tlsServer(SubjectPublicKeyInfo key, String keySha256, List<String> dnsNames,
            List<String> ipAddresses, Duration validity) {
        String name = dnsNames.isEmpty() ? ipAddresses.isEmpty() ? "" : ipAddresses.get(0) : dnsNames.get(0);
        Issuance i = new Issuance(new Issuance.Subject(PreSigningLinter.Kind.TLS_SERVER, issuers.active(), null,
                "tls-server", name, dnsNames, ipAddresses, key, keySha256, KeyType.EC_P256, validity, null),
                serials.next());
        i.recordDeviceId("trent-tls-" + i.serialHex().substring(0, Math.min(8, i.serialHex().length())));
        i.auditDetails().put("dnsNames", dnsNames);
        i.auditDetails().put("ipAddresses", ipAddresses);
        IssuanceStage.run(tlsServer, i);
        try {
            // The leaf and the intermediate that signed it (never another one read separately).
            return List.of(new JcaX509CertificateConverter().getCertificate(i.holder()), i.issuer().certificate());
        } catch (java.security.cert.CertificateException e) {
            throw new IllegalStateException("cannot issue the TLS server certificate", e);
        }
    }

}
