package dev.trent.enrollment;

import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;

import dev.trent.audit.AuditLog;
import dev.trent.domain.DomainException;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateEvent;
import dev.trent.inventory.CertificateStatus;
import dev.trent.inventory.CertificateStore;
import dev.trent.issuance.IssuanceService;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyPolicy;
import dev.trent.profile.KeyType;
import dev.trent.profile.Profiles;
import dev.trent.security.Secrets;

/**
 * The stage types device enrollment flows are composed of ({@link EnrollmentService}): each
 * small, holding only what it needs. Credential stages (token, current certificate, factory
 * certificate) are per flow; decoding, profile, key policy, proof of possession, issuance and
 * the audit are shared.
 */
final class EnrollmentStages {

    private static final Logger log = LoggerFactory.getLogger(EnrollmentService.class);

    private EnrollmentStages() {
    }

    /** Decodes the CSR (PEM or DER, base64 for EST); 400 {@code csr-malformed}. */
    record DecodeCsr() implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            e.csr = decode(e.body, e.encoding);
        }
    }

    static DecodedCsr decode(byte[] body, CsrDecoder.Encoding encoding) {
        try {
            return CsrDecoder.decode(body, encoding);
        } catch (CsrException x) {
            throw EnrollmentProblems.from(x);
        }
    }

    /** The CSR's self-signature: proof that the client holds the key (400 {@code csr-signature-invalid}). */
    record ProofOfPossession() implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            try {
                CsrDecoder.verifyProofOfPossession(e.csr);
            } catch (CsrException x) {
                throw EnrollmentProblems.from(x);
            }
        }
    }

    /** The configured profile of {@link Enrollment#profileName}, or the flow's refusal. */
    record ResolveProfile(Profiles profiles, Function<Enrollment, RuntimeException> missing)
            implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            e.profile = profiles.get(e.profileName).orElseThrow(() -> missing.apply(e));
        }
    }

    /** The profile's key policy on the CSR's key (400 {@code key-refused}). */
    record KeyPolicyCheck() implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            KeyPolicy.Verdict verdict = KeyPolicy.check(e.profile, e.csr.publicKeyInfo(), e.csr.publicKey());
            if (!verdict.accepted()) {
                throw DomainException.invalid("key-refused", "Key refused", verdict.refusal());
            }
            e.keyType = verdict.keyType();
        }
    }

    /**
     * The presented token, locked until the transaction ends, after the checks every protocol
     * shares: known; for the device and profile the client claims (EST: Basic user name and
     * label), when it claims them; unexpired unless already used (a used token's retry is
     * answered past expiry, because its certificate was issued while it was valid).
     */
    record LockToken(EnrollmentTokens tokens, Clock clock) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            EnrollmentTokens.Token token = tokens.lockByHash(Secrets.hash(e.presentedToken))
                    .orElseThrow(() -> EnrollmentProblems.tokenInvalid("The enrollment token is unknown."));
            EnrollmentService.credentialAccepted(token.deviceId());
            if (e.claimedDeviceId != null && !e.claimedDeviceId.equals(token.deviceId())) {
                // The same answer as for an unknown token: a token guessed or stolen with the wrong
                // device name is not confirmed as valid (the audit log records the mismatch).
                throw EnrollmentProblems.tokenInvalid("The enrollment token is unknown.");
            }
            if (e.requestedProfile != null && !e.requestedProfile.equals(token.profile())) {
                throw DomainException.invalid("profile-mismatch", "Profile mismatch", "This enrollment token is "
                        + "for profile '" + token.profile() + "', not '" + e.requestedProfile + "'.");
            }
            if (!token.isUsed() && token.isExpired(clock.instant())) {
                throw EnrollmentProblems.tokenInvalid("The enrollment token expired at " + token.expiresAt() + ".");
            }
            e.token = token;
            e.deviceId = token.deviceId();
            e.dnsNames = token.dnsNames();
            e.profileName(token.profile());
            e.auditDetails.put("tokenId", token.id());
        }
    }

    /** A token's profile that is no longer configured: 400 {@code profile-unavailable}. */
    static RuntimeException tokenProfileMissing(Enrollment e) {
        return DomainException.invalid("profile-unavailable", "Profile unavailable", "The token's profile '"
                + e.token.profile() + "' is no longer configured.");
    }

    /**
     * A used token: a retry with the same key after a lost response gets the same certificate
     * (200; past the token's expiry too, since it was issued while the token was valid), unless
     * it was revoked since; another key, 409. The retry's CSR passes {@code proofOfPossession}
     * (the flow's {@link ProofOfPossession}) before its certificate is returned.
     */
    record TokenRetry(CertificateStore certificates, EnrollmentStage proofOfPossession) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            if (!e.token.isUsed()) {
                return;
            }
            Certificate earlier = certificates.byId(e.token.certificateId()).orElseThrow();
            boolean sameKey = earlier.publicKeySha256().equals(e.csr.publicKeySha256());
            if (sameKey && earlier.status() == CertificateStatus.REVOKED) {
                throw DomainException.conflict("enrollment-token-used", "Enrollment token already used",
                        "The certificate issued for this token has since been revoked; ask the operator for a new "
                                + "token.");
            }
            if (sameKey) {
                proofOfPossession.apply(e);
                log.info("Enrollment retry for device {}: returning certificate {}", e.deviceId, earlier.serial());
                e.answer = new EnrollmentService.Outcome(earlier, false);
                return;
            }
            throw DomainException.conflict("enrollment-token-used", "Enrollment token already used",
                    "This enrollment token was already used, with another key. Ask the operator for a new token.");
        }
    }

    /** Keygen: a used token is refused, since the key of its certificate cannot be handed out again. */
    record TokenUnused() implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            if (e.token.isUsed()) {
                throw DomainException.conflict("enrollment-token-used", "Enrollment token already used",
                        "This enrollment token was already used. A key Trent generated is handed out once and never "
                                + "stored; ask the operator for a new token.");
            }
        }
    }

    /** Keygen: a key pair made here (P-256, or P-384 where the profile allows only that). */
    record GenerateKey(java.security.SecureRandom random) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            CertificateProfile profile = e.profile;
            KeyType type = profile.keyTypes().contains(KeyType.EC_P256) ? KeyType.EC_P256
                    : profile.keyTypes().contains(KeyType.EC_P384) ? KeyType.EC_P384 : null;
            if (type == null) {
                throw DomainException.invalid("key-refused", "Key refused", "Profile '" + profile.name()
                        + "' allows no EC key type; server-side key generation makes EC P-256 or P-384 keys only.");
            }
            try {
                java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC",
                        dev.trent.pki.Providers.BC);
                g.initialize(new java.security.spec.ECGenParameterSpec(type == KeyType.EC_P256 ? "secp256r1"
                        : "secp384r1"), random);
                e.generated = g.generateKeyPair();
            } catch (java.security.GeneralSecurityException x) {
                throw new IllegalStateException("cannot generate a key pair", x);
            }
            e.keyType = type;
            // The audit event's details in their order: keyGeneratedBy, then tokenId.
            Object tokenId = e.auditDetails.remove("tokenId");
            e.auditDetails.put("keyGeneratedBy", "server");
            e.auditDetails.put("tokenId", tokenId);
        }
    }

    /** The issuance stages ({@link IssuanceService}) for what the enrollment decided. */
    record Issue(IssuanceService issuance) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            SubjectPublicKeyInfo key = e.generated != null
                    ? SubjectPublicKeyInfo.getInstance(e.generated.getPublic().getEncoded()) : e.csr.publicKeyInfo();
            e.issued = issuance.issue(new IssuanceService.Request(e.profile, e.deviceId, e.dnsNames, key,
                    e.publicKeySha256(), e.keyType, e.token == null ? null : e.token.id()));
        }
    }

    /** The audit details every {@code certificate.issued} event carries. */
    static Map<String, Object> issuedDetails(Certificate cert, CertificateProfile profile) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("profile", profile.name());
        details.put("issuerId", cert.issuerId());
        details.put("keyType", cert.keyType());
        details.put("publicKeySha256", cert.publicKeySha256());
        details.put("notAfter", cert.notAfter().toString());
        return details;
    }

    /** {@code certificate.issued} by the device, and the certificate event, in the issuing transaction. */
    record AuditIssued(AuditLog audit, ApplicationEventPublisher events, Clock clock) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            Certificate cert = e.issued;
            Map<String, Object> details = issuedDetails(cert, e.profile);
            details.putAll(e.auditDetails);
            audit.record("device:" + e.deviceId, "certificate.issued", cert.serial(), details);
            events.publishEvent(CertificateEvent.issued(cert, clock.instant()));
        }
    }

    // ---------------------------------------------------------------- renewal

    /**
     * Renewal's credential: the current certificate from the TLS handshake, one Trent issued
     * (byte for byte), locked for the rest of the transaction (a revocation, hold or second
     * renewal of it waits). Its profile is resolved next ({@link ResolveProfile} with
     * {@link #renewalProfileMissing}), then {@link CurrentCertificateRenewable} checks the rest.
     */
    record CurrentCertificate(CertificateStore certificates) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            if (e.presented == null || e.presented.length == 0) {
                throw EnrollmentProblems.clientCertificateRequired(
                        "Renewal is authenticated by the current certificate: present it in the TLS handshake.");
            }
            java.security.cert.X509Certificate leaf = e.presented[0];
            Certificate current;
            try {
                byte[] der = leaf.getEncoded();
                String serial = dev.trent.pki.SerialNumbers.toHex(leaf.getSerialNumber());
                certificates.lock(serial);
                current = certificates.bySerial(serial).filter(c -> java.util.Arrays.equals(c.der(), der))
                        .orElseThrow(() -> DomainException.forbidden("client-certificate-invalid",
                                "Client certificate not accepted", "The client certificate was not issued by this CA."));
            } catch (java.security.cert.CertificateEncodingException x) {
                throw DomainException.forbidden("client-certificate-invalid",
                        "Client certificate not accepted", "The client certificate cannot be read.");
            }
            EnrollmentService.credentialAccepted(current.deviceId());
            e.profileName(current.profile());
            e.current = current;
            e.currentLeaf = leaf;
            e.deviceId = current.deviceId();
            e.dnsNames = current.dnsNames();
        }
    }

    /** The current certificate's profile is not configured here: not renewed (client-certificate-invalid). */
    static RuntimeException renewalProfileMissing(Enrollment e) {
        return DomainException.forbidden("client-certificate-invalid", "Client certificate not accepted",
                "Certificates of profile '" + e.current.profile() + "' are not renewed here.");
    }

    /**
     * The current certificate may renew: unrevoked (a hold counts), unexpired or expired less
     * than its profile's {@code renewal-grace} ago, of the profile asked for.
     */
    record CurrentCertificateRenewable(dev.trent.config.TrentProperties properties, Clock clock)
            implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            Certificate current = e.current;
            CertificateProfile profile = e.profile;
            if (current.status() == CertificateStatus.REVOKED) {
                throw DomainException.forbidden("client-certificate-revoked", "Client certificate revoked",
                        "The client certificate is revoked (or on hold); it cannot renew.");
            }
            java.time.Duration grace = properties.profiles().get(profile.name()).renewalGrace();
            if (clock.instant().isAfter(current.notAfter().plus(grace))) {
                throw DomainException.forbidden("client-certificate-expired", "Client certificate expired",
                        "The client certificate expired at " + current.notAfter() + (grace.isZero()
                                ? "; profile '" + profile.name() + "' allows no renewal after expiry."
                                : ", longer ago than profile '" + profile.name() + "' allows (" + grace + ")."));
            }
            if (e.requestedProfile != null && !e.requestedProfile.equals(current.profile())) {
                throw DomainException.invalid("profile-mismatch", "Profile mismatch", "The client certificate is "
                        + "of profile '" + current.profile() + "', not '" + e.requestedProfile + "'.");
            }
        }
    }

    /** What the renewal's protocol requires of the CSR's names ({@link EnrollmentService.CsrNames}). */
    record CsrNamesRule() implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            e.csrNames.check(e.csr, e.currentLeaf);
        }
    }

    /**
     * The renewal recorded: lineage ({@code renewed_from}), {@code certificate.renewed} and its
     * event; with the profile's {@code revoke-on-renew}, the old certificate revoked (superseded)
     * in the same transaction.
     */
    record RecordRenewal(CertificateStore certificates, AuditLog audit, ApplicationEventPublisher events, Clock clock,
            dev.trent.config.TrentProperties properties,
            org.springframework.beans.factory.ObjectProvider<dev.trent.revocation.RevocationService> revocations)
            implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            Certificate cert = e.issued;
            Certificate current = e.current;
            certificates.linkRenewal(current.issuerId(), current.serial(), cert.issuerId(), cert.serial());
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("previous", current.serial());
            details.put("rekey", !cert.publicKeySha256().equals(current.publicKeySha256()));
            details.put("profile", e.profile.name());
            details.put("notAfter", cert.notAfter().toString());
            audit.record("device:" + current.deviceId(), "certificate.renewed", cert.serial(), details);
            events.publishEvent(CertificateEvent.renewed(cert, clock.instant(), current.serial()));
            if (properties.profiles().get(current.profile()).revokeOnRenew()) {
                revocations.getObject().revoke(current.serial(), dev.trent.revocation.RevocationReason.superseded,
                        null, "device:" + current.deviceId());
            }
        }
    }

    // ---------------------------------------------------------------- IDevID

    /** IDevID's credential: a factory certificate that chains to a registered manufacturer CA. */
    record FactoryCertificate(
            org.springframework.beans.factory.ObjectProvider<dev.trent.manufacturer.ManufacturerCas> manufacturers)
            implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            dev.trent.manufacturer.ManufacturerCas.Match match = manufacturers.getObject().match(e.presented);
            e.profileName(match.ca().profile());
            e.deviceId = match.deviceId();
            EnrollmentService.credentialAccepted(e.deviceId);
            if (e.requestedProfile != null && !e.requestedProfile.equals(match.ca().profile())) {
                throw DomainException.invalid("profile-mismatch", "Profile mismatch", "Manufacturer CA '"
                        + match.ca().name() + "' authorises profile '" + match.ca().profile() + "', not '"
                        + e.requestedProfile + "'.");
            }
            e.factory = match;
        }
    }

    /**
     * Once per factory certificate and device id (concurrent requests for either wait on their
     * locks): a retry with the same factory certificate and key gets the same certificate (200);
     * otherwise 409. A device id in use otherwise (a token, a delivered certificate) is never
     * taken over by a factory certificate. The retry's CSR passes {@code proofOfPossession} (the
     * flow's {@link ProofOfPossession}) before its certificate is returned.
     */
    record OncePerFactoryCertificate(EnrollmentTokens tokens, CertificateStore certificates,
            EnrollmentStage proofOfPossession) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            dev.trent.manufacturer.ManufacturerCas.Match match = e.factory;
            String deviceId = e.deviceId;
            tokens.lockName("idevid:" + match.idevidSha256());
            tokens.lockName("device:" + deviceId);
            // This factory certificate's own earlier enrollment first, then another one for the same id.
            CertificateStore.IdevidEnrollment earlier = certificates.earlierIdevidEnrollment(match.idevidSha256(),
                    deviceId).orElse(null);
            if (earlier != null) {
                Certificate before = certificates.byId(earlier.certificateId()).orElseThrow();
                boolean sameIdevid = match.idevidSha256().equals(earlier.idevidSha256());
                if (sameIdevid && before.publicKeySha256().equals(e.csr.publicKeySha256())
                        && before.status() != CertificateStatus.REVOKED) {
                    proofOfPossession.apply(e);
                    log.info("IDevID enrollment retry for device {}: returning certificate {}", deviceId,
                            before.serial());
                    e.answer = new EnrollmentService.Outcome(before, false);
                    return;
                }
                throw DomainException.conflict("idevid-already-enrolled", "Device already enrolled",
                        "Device '" + deviceId + "' already enrolled with "
                                + (sameIdevid ? "this factory certificate" : "another factory certificate")
                                + " (certificate " + before.serial() + "). It renews with its operational certificate "
                                + "(simplereenroll); a new first enrollment needs an enrollment token from the operator.");
            }
            // Delivered certificates only: a PENDING row is this device's own interrupted attempt (an
            // IDevID request holds the device's advisory lock; a token's row is counted too).
            if (certificates.deviceIdTaken(deviceId)) {
                throw DomainException.conflict("device-id-taken", "Device id taken", "The device id '"
                        + deviceId + "' that this factory certificate names is already in use (an enrollment token "
                        + "or a certificate). Give the manufacturer CA a device id prefix of its own, or ask the "
                        + "operator.");
            }
            String idevidSubject = org.bouncycastle.asn1.x500.X500Name.getInstance(
                    match.idevid().getSubjectX500Principal().getEncoded()).toString();
            String idevidSerial = match.idevid().getSerialNumber().toString(16);
            if (idevidSerial.length() > 64 || idevidSubject.indexOf('\0') >= 0) {
                throw DomainException.invalid("client-certificate-invalid", "Client certificate not accepted",
                        "The factory certificate's serial number or subject cannot be recorded.");
            }
            e.auditDetails.put("manufacturerCa", match.ca().name());
            e.auditDetails.put("idevidSubject", idevidSubject);
            e.auditDetails.put("idevidSha256", match.idevidSha256());
        }
    }

    /** A manufacturer CA's profile that is no longer configured: 400 {@code profile-unavailable}. */
    static RuntimeException factoryProfileMissing(Enrollment e) {
        return DomainException.invalid("profile-unavailable", "Profile unavailable", "Manufacturer CA '"
                + e.factory.ca().name() + "' names profile '" + e.factory.ca().profile()
                + "', which is no longer configured.");
    }

    /** The operational key must not be the factory key (it must be revocable without touching the factory identity). */
    record NotTheFactoryKey() implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            String factoryKey = dev.trent.pki.Hashes.sha256Hex(e.factory.idevid().getPublicKey().getEncoded());
            if (factoryKey.equals(e.csr.publicKeySha256())) {
                throw DomainException.invalid("key-refused", "Key refused", "The CSR carries the factory "
                        + "certificate's key. Generate a new key pair for the operational certificate.");
            }
        }
    }

    /** The IDevID enrollment recorded with the certificate it gave. */
    record RecordIdevidEnrollment(CertificateStore certificates, Clock clock) implements EnrollmentStage {
        @Override
        public void apply(Enrollment e) {
            certificates.recordIdevidEnrollment(e.factory.idevidSha256(), e.factory.ca().id(),
                    (String) e.auditDetails.get("idevidSubject"), e.factory.idevid().getSerialNumber().toString(16),
                    e.deviceId, e.issued.issuerId(), e.issued.serial(), clock.instant());
        }
    }
}
