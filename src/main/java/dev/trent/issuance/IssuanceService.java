package dev.trent.issuance;

import java.io.IOException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Propagation;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.CertificateRecord;
import dev.trent.inventory.CertificateRepository;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyType;

/**
 * The issuance pipeline after the request is authorised and the key accepted: fix the
 * template, lint it, persist the record (reserving the serial), sign, store the DER. It runs
 * inside the caller's transaction, so a failure at any step leaves nothing behind, and no
 * signed certificate can exist that the database does not know (Boulder's issuance cycle).
 */
@Service
public class IssuanceService {

    private final IssuerRegistry issuers;
    private final CertificateRepository certificates;
    private final Clock clock;
    private final SerialNumbers serials;
    private final TrentProperties properties;

    IssuanceService(IssuerRegistry issuers, CertificateRepository certificates, Clock clock, SecureRandom random,
            TrentProperties properties) {
        this.issuers = issuers;
        this.certificates = certificates;
        this.clock = clock;
        this.serials = new SerialNumbers(random);
        this.properties = properties;
    }

    /**
     * What the authorisation step decided: who, which profile, which names, which key.
     *
     * @param publicKeySha256 hex SHA-256 of the key's SubjectPublicKeyInfo DER (the key's identity)
     */
    public record Request(CertificateProfile profile, String deviceId, List<String> dnsNames,
            SubjectPublicKeyInfo publicKey, String publicKeySha256, KeyType keyType, Long tokenId) {
    }

    @Transactional(propagation = Propagation.MANDATORY)
    public CertificateRecord issue(Request request) {
        Issuer issuer = issuers.active();
        CertificateTemplate template = template(issuer, request);
        PreSigningLinter.lint(template);

        CertificateRecord record = new CertificateRecord(issuer.id(), SerialNumbers.toHex(template.serial()),
                request.deviceId(), request.profile().name(), CertificateFactory.subject(request.deviceId()).toString(),
                template.dnsNames(), template.notBefore(), template.notAfter(), request.keyType().name(),
                request.publicKeySha256(), request.tokenId(), clock.instant());
        // Persist first: the serial is reserved (unique per issuer) before any signature exists.
        certificates.saveAndFlush(record);

        X509CertificateHolder signed = CertificateFactory.sign(template);
        try {
            record.signed(signed.getEncoded());
        } catch (IOException e) {
            throw new IllegalStateException("signed certificate cannot be encoded", e);
        }
        return record;
    }

    private CertificateTemplate template(Issuer issuer, Request request) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant notBefore = now.minus(properties.issuance().backdate());
        Instant notAfter = now.plus(request.profile().validity());
        Instant issuerNotAfter = issuer.certificate().getNotAfter().toInstant();
        if (notAfter.isAfter(issuerNotAfter)) {
            notAfter = issuerNotAfter;
        }
        return new CertificateTemplate(issuer, request.profile(), serials.next(), request.deviceId(),
                request.dnsNames(), request.publicKey(), request.keyType(), notBefore, notAfter);
    }
}
