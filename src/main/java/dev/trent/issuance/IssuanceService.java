package dev.trent.issuance;

import java.io.IOException;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateStatus;
import dev.trent.inventory.CertificateStore;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyType;
import dev.trent.web.ProblemException;

/**
 * The issuance pipeline after the request is authorised and the key accepted: fix the
 * template, lint it, build the exact TBSCertificate, reserve it (its serial and TBS hash
 * committed as PENDING on a connection of its own, before anything is signed), sign those TBS
 * bytes, and store the DER in the caller's transaction (ISSUED). A failure after the
 * reservation leaves an ABANDONED row and nothing issued; a crash leaves a PENDING row that
 * {@link ReservationSweeper} abandons. So no signature exists that the database does not know
 * (Boulder's issuance cycle).
 */
@Service
public class IssuanceService {

    private final IssuerRegistry issuers;
    private final CertificateStore store;
    private final Clock clock;
    private final SerialNumbers serials;
    private final TrentProperties properties;
    private final dev.trent.audit.AuditLog audit;
    private final io.micrometer.core.instrument.MeterRegistry registry;
    /** {@code trent.issuance} per profile (configured profiles: a small, fixed set). */
    private final java.util.Map<String, io.micrometer.core.instrument.Timer> latency =
            new java.util.concurrent.ConcurrentHashMap<>();

    IssuanceService(IssuerRegistry issuers, CertificateStore store, Clock clock, SecureRandom random,
            TrentProperties properties, dev.trent.audit.AuditLog audit,
            io.micrometer.core.instrument.MeterRegistry registry) {
        this.registry = registry;
        for (String profile : properties.profiles().keySet()) {
            timer(profile);
        }
        this.issuers = issuers;
        this.store = store;
        this.clock = clock;
        this.serials = new SerialNumbers(random);
        this.properties = properties;
        this.audit = audit;
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
    @Transactional(propagation = Propagation.MANDATORY)
    public Certificate issue(Request request) {
        long started = System.nanoTime();
        Certificate issued = issueTimed(request);
        timer(request.profile().name()).record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
        return issued;
    }

    /**
     * {@code trent.issuance}: time from template to stored DER of successful issuances (lint,
     * serial reservation, signature, storage; the commit is the caller's), by profile.
     */
    private io.micrometer.core.instrument.Timer timer(String profile) {
        return latency.computeIfAbsent(profile, p -> io.micrometer.core.instrument.Timer.builder("trent.issuance")
                .description("Issuance pipeline latency of successful issuances").tag("profile", p)
                .publishPercentileHistogram().minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofSeconds(10)).register(registry));
    }

    private Certificate issueTimed(Request request) {
        Issuer issuer = issuers.active();
        CertificateTemplate template = template(issuer, request);
        PreSigningLinter.lint(template);
        // The exact TBS that will be signed, built once: sized, hashed into the reservation, signed.
        org.bouncycastle.operator.ContentSigner signer = issuer.signer().contentSigner();
        byte[] tbs = CertificateFactory.tbs(template, signer.getAlgorithmIdentifier());
        checkSize(template, tbs, signer.getAlgorithmIdentifier());
        // Tokens refuse it already; this catches every other way to a device id (IDevID).
        checkNotReserved(properties.mosquitto(), request.deviceId(), request.profile());

        Instant now = clock.instant();
        String serial = SerialNumbers.toHex(template.serial());
        String subject = CertificateFactory.subject(request.deviceId()).toString();
        // Persist first, durably: the serial and the hash of the exact TBS are committed before
        // any signature exists (see reserve()).
        long id;
        try {
            id = reserve(new CertificateStore.Pending(issuer.id(), serial, request.deviceId(),
                    request.profile().name(), subject, template.dnsNames(), template.notBefore(),
                    template.notAfter(), request.keyType().name(), request.publicKeySha256(),
                    dev.trent.pki.Hashes.sha256Hex(tbs), now));
        } catch (CertificateStore.KeyBlockedException e) {
            throw ProblemException.badRequest("key-refused", "Key refused", "This public key was reported "
                    + "compromised (keyCompromise) and will not be certified again. Generate a new key pair.");
        }

        byte[] der;
        try {
            der = CertificateFactory.signTbs(tbs, signer, "certificate " + serial).getEncoded();
        } catch (IOException e) {
            throw new IllegalStateException("signed certificate cannot be encoded", e);
        }
        try {
            store.storeSigned(id, der, request.tokenId(), now);
        } catch (CertificateStore.KeyBlockedException e) {
            throw ProblemException.badRequest("key-refused", "Key refused", "This public key was reported "
                    + "compromised (keyCompromise) while the certificate was being issued; nothing was issued. "
                    + "Generate a new key pair.");
        }
        return new Certificate(serial, issuer.id(), request.deviceId(), request.profile().name(), subject,
                template.dnsNames(), CertificateStatus.ISSUED, request.keyType().name(), request.publicKeySha256(),
                template.notBefore(), template.notAfter(), now, null, der);
    }

    /**
     * Refuses a device id that {@link TrentProperties.Mosquitto#reserves} (400
     * {@code device-id-reserved}): at token creation and again before any issuance.
     */
    public static void checkNotReserved(TrentProperties.Mosquitto broker, String deviceId, CertificateProfile profile) {
        if (broker.reserves(deviceId, profile.name())) {
            throw ProblemException.badRequest("device-id-reserved", "Device id reserved", "Device id '" + deviceId
                    + "' is the name of the Mosquitto client Trent administers the broker as "
                    + "(trent.mosquitto.username); a certificate with it would log in to the broker as that client.");
        }
    }

    /**
     * A profile's {@code max-der-bytes}, checked before a serial is reserved or anything signed,
     * on the certificate as it would be built, with the largest signature the issuer's key makes.
     */
    private static void checkSize(CertificateTemplate template, byte[] tbs,
            org.bouncycastle.asn1.x509.AlgorithmIdentifier algorithm) {
        CertificateProfile profile = template.profile();
        if (profile.maxDerBytes() <= 0) {
            return;
        }
        int size = CertificateFactory.maxDerBytes(tbs, algorithm, template.issuer().certificate().getPublicKey());
        if (size > profile.maxDerBytes()) {
            throw ProblemException.badRequest("certificate-too-large", "Certificate too large", "The certificate "
                    + "would be up to " + size + " bytes DER; profile '" + profile.name() + "' allows at most "
                    + profile.maxDerBytes() + " (trent.profiles." + profile.name() + ".max-der-bytes). A shorter "
                    + "device id or fewer and shorter DNS names would fit; the operator can also leave out the OCSP "
                    + "or caIssuers URL (trent.profiles." + profile.name() + ".ocsp-url, .ca-issuers-url).");
        }
    }

    /**
     * Issues a delegated OCSP responder certificate for {@code key} (RFC 6960 4.2.2.2): CN =
     * {@code name}, keyUsage digitalSignature, EKU id-kp-OCSPSigning, id-pkix-ocsp-nocheck (so
     * relying parties do not check its own status; hence a short lifetime), SKI and AKI, no
     * CDP or AIA. Recorded like every certificate (profile {@code ocsp-responder}) before it is
     * signed.
     */
    @Transactional
    public X509Certificate issueOcspResponder(Issuer issuer, SubjectPublicKeyInfo key, String keySha256, String name,
            Duration validity) {
        Window window = validityWindow(issuer, validity);
        Instant notBefore = window.notBefore();
        Instant notAfter = window.notAfter();
        java.math.BigInteger serialNumber = serials.next();
        String serial = SerialNumbers.toHex(serialNumber);
        org.bouncycastle.operator.ContentSigner signer = issuer.signer().contentSigner();
        byte[] tbs = CertificateFactory.ocspResponderTbs(issuer, serialNumber, name, key, notBefore, notAfter,
                signer.getAlgorithmIdentifier());
        long id = reserve(new CertificateStore.Pending(issuer.id(), serial, name, "ocsp-responder",
                CertificateFactory.subject(name).toString(), List.of(), notBefore, notAfter, KeyType.EC_P256.name(),
                keySha256, dev.trent.pki.Hashes.sha256Hex(tbs), clock.instant()));
        try {
            X509CertificateHolder holder = CertificateFactory.signTbs(tbs, signer, "the OCSP responder certificate");
            byte[] der = holder.getEncoded();
            store.storeSigned(id, der, null, clock.instant());
            java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
            details.put("profile", "ocsp-responder");
            details.put("issuerId", issuer.id());
            details.put("notAfter", notAfter.toString());
            audit.record("system", "certificate.issued", serial, details);
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (IOException | java.security.cert.CertificateException e) {
            throw new IllegalStateException("cannot issue the OCSP responder certificate", e);
        }
    }

    /**
     * Issues Trent's own TLS server certificate with the active issuer, recorded like every
     * certificate (profile {@code tls-server}) before it is signed.
     *
     * @return the certificate and the issuer certificate that signed it
     */
    @Transactional
    public List<X509Certificate> issueTlsServer(SubjectPublicKeyInfo key, String keySha256, List<String> dnsNames,
            List<String> ipAddresses, Duration validity) {
        Issuer issuer = issuers.active();
        Window window = validityWindow(issuer, validity);
        java.math.BigInteger serialNumber = serials.next();
        String serial = SerialNumbers.toHex(serialNumber);
        PreSigningLinter.lintTlsServer(serialNumber, window.notBefore(), window.notAfter(), issuer, dnsNames,
                ipAddresses);
        String name = dnsNames.isEmpty() ? ipAddresses.get(0) : dnsNames.get(0);
        org.bouncycastle.operator.ContentSigner signer = issuer.signer().contentSigner();
        byte[] tbs = CertificateFactory.tlsServerTbs(issuer, serialNumber, name, key, dnsNames, ipAddresses,
                window.notBefore(), window.notAfter(), signer.getAlgorithmIdentifier());
        long id = reserve(new CertificateStore.Pending(issuer.id(), serial, "trent-tls-" + serial.substring(0, 8),
                "tls-server", CertificateFactory.subject(name).toString(), dnsNames, window.notBefore(),
                window.notAfter(), KeyType.EC_P256.name(), keySha256, dev.trent.pki.Hashes.sha256Hex(tbs),
                clock.instant()));
        try {
            X509CertificateHolder holder = CertificateFactory.signTbs(tbs, signer, "the TLS server certificate");
            store.storeSigned(id, holder.getEncoded(), null, clock.instant());
            java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
            details.put("profile", "tls-server");
            details.put("issuerId", issuer.id());
            details.put("dnsNames", dnsNames);
            details.put("ipAddresses", ipAddresses);
            details.put("notAfter", window.notAfter().toString());
            audit.record("system", "certificate.issued", serial, details);
            // The leaf and the intermediate that signed it (never another one read separately).
            return List.of(new JcaX509CertificateConverter().getCertificate(holder), issuer.certificate());
        } catch (IOException | java.security.cert.CertificateException e) {
            throw new IllegalStateException("cannot issue the TLS server certificate", e);
        }
    }

    /**
     * Commits the reservation (outside the caller's transaction, see {@link CertificateStore})
     * and makes sure that a caller's transaction that does not commit leaves it ABANDONED, never
     * PENDING: a failed signature, a failed store, a failed audit or commit. When the outcome of
     * the commit is unknown (the connection broke during it), the row stays PENDING and the
     * sweeper ({@link ReservationSweeper}) decides after {@code trent.issuance.pending-timeout}:
     * if the commit did happen, the row is ISSUED and the sweeper leaves it alone.
     */
    private long reserve(CertificateStore.Pending pending) {
        long id = store.reserve(pending);
        org.springframework.transaction.support.TransactionSynchronizationManager.registerSynchronization(
                new org.springframework.transaction.support.TransactionSynchronization() {
                    @Override
                    public void afterCompletion(int status) {
                        if (status == STATUS_ROLLED_BACK) {
                            try {
                                store.abandon(id);
                            } catch (RuntimeException e) {
                                // PostgreSQL unreachable: the sweeper abandons it later.
                                org.slf4j.LoggerFactory.getLogger(IssuanceService.class).warn(
                                        "Reservation of certificate {} not marked abandoned ({}); the sweeper will",
                                        pending.serial(), e.toString());
                            }
                        }
                    }
                });
        return id;
    }

    private CertificateTemplate template(Issuer issuer, Request request) {
        Window window = validityWindow(issuer, request.profile().validity());
        return new CertificateTemplate(issuer, request.profile(), serials.next(), request.deviceId(),
                request.dnsNames(), request.publicKey(), request.keyType(), window.notBefore(), window.notAfter());
    }

    /**
     * notBefore and notAfter of a certificate issued now: backdated by {@code trent.issuance.backdate}
     * but never before the issuer's own notBefore (an intermediate signed moments ago), and never
     * after the issuer's notAfter. Whole seconds, as X.509 times carry them.
     */
    private record Window(Instant notBefore, Instant notAfter) {
    }

    private Window validityWindow(Issuer issuer, Duration validity) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant notBefore = now.minus(properties.issuance().backdate());
        Instant issuerNotBefore = issuer.certificate().getNotBefore().toInstant();
        if (notBefore.isBefore(issuerNotBefore)) {
            notBefore = issuerNotBefore;
        }
        Instant notAfter = now.plus(validity);
        Instant issuerNotAfter = issuer.certificate().getNotAfter().toInstant();
        if (notAfter.isAfter(issuerNotAfter)) {
            notAfter = issuerNotAfter;
        }
        return new Window(notBefore, notAfter);
    }
}
