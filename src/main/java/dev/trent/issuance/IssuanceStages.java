package dev.trent.issuance;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import org.slf4j.LoggerFactory;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import dev.trent.audit.AuditLog;
import dev.trent.config.TrentProperties;
import dev.trent.domain.DomainException;
import dev.trent.inventory.CertificateReservations;
import dev.trent.inventory.CertificateStore;
import dev.trent.pki.Hashes;
import dev.trent.profile.CertificateProfile;

/**
 * The stage types every issuance flow is composed of, in the order flows use them: validity
 * window, build the TBS, lint it, size it, check the device id, reserve, sign, store, audit.
 * Each is small, holds only what it needs, and is tested alone ({@code IssuanceStagesTest}).
 */
final class IssuanceStages {

    private IssuanceStages() {
    }

    /**
     * notBefore and notAfter of a certificate issued now: backdated by {@code trent.issuance.backdate}
     * but never before the issuer's own notBefore (an intermediate signed moments ago), and never
     * after the issuer's notAfter. Whole seconds, as X.509 times carry them.
     */
    record ValidityWindow(Clock clock, Duration backdate) implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
            Instant notBefore = now.minus(backdate);
            Instant issuerNotBefore = i.issuer().certificate().getNotBefore().toInstant();
            if (notBefore.isBefore(issuerNotBefore)) {
                notBefore = issuerNotBefore;
            }
            Instant notAfter = now.plus(i.subject().validity());
            Instant issuerNotAfter = i.issuer().certificate().getNotAfter().toInstant();
            if (notAfter.isAfter(issuerNotAfter)) {
                notAfter = issuerNotAfter;
            }
            i.window(notBefore, notAfter);
        }
    }

    /** The exact TBSCertificate of the kind asked for, with the signer's own AlgorithmIdentifier. */
    record BuildTbs() implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            Issuance.Subject s = i.subject();
            org.bouncycastle.asn1.x509.AlgorithmIdentifier algorithm = i.signer().getAlgorithmIdentifier();
            i.tbs(switch (s.kind()) {
                case DEVICE -> CertificateFactory.tbs(new CertificateTemplate(s.issuer(), s.profile(), i.serial(),
                        s.name(), s.dnsNames(), s.publicKey(), s.keyType(), i.notBefore(), i.notAfter()), algorithm);
                case TLS_SERVER -> CertificateFactory.tlsServerTbs(s.issuer(), i.serial(), s.name(), s.publicKey(),
                        s.dnsNames(), s.ipAddresses(), i.notBefore(), i.notAfter(), algorithm);
                case OCSP_RESPONDER -> CertificateFactory.ocspResponderTbs(s.issuer(), i.serial(), s.name(),
                        s.publicKey(), i.notBefore(), i.notAfter(), algorithm);
            });
        }
    }

    /**
     * Trent's own TLS server names (DNS names and IP addresses) checked before the TBS is built:
     * an address that does not parse cannot go in one.
     */
    record TlsServerNames() implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            PreSigningLinter.lintTlsServer(i.serial(), i.notBefore(), i.notAfter(), i.issuer(),
                    i.subject().dnsNames(), i.subject().ipAddresses());
        }
    }

    /** The pre-signing lint, on the TBS bytes that will be signed ({@link PreSigningLinter}). */
    record LintTbs() implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            Issuance.Subject s = i.subject();
            PreSigningLinter.lint(i.tbs(), new PreSigningLinter.Rules(s.kind(), s.issuer(),
                    i.signer().getAlgorithmIdentifier(), s.profile(), s.keyType()));
        }
    }

    /**
     * A profile's {@code max-der-bytes}, checked before a serial is reserved or anything signed,
     * on the TBS as built, with the largest signature the issuer's key makes.
     */
    record CheckSize() implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            CertificateProfile profile = i.subject().profile();
            if (profile == null || profile.maxDerBytes() <= 0) {
                return;
            }
            int size = CertificateFactory.maxDerBytes(i.built(), i.signer().getAlgorithmIdentifier(),
                    i.issuer().certificate().getPublicKey());
            if (size > profile.maxDerBytes()) {
                throw DomainException.invalid("certificate-too-large", "Certificate too large", "The certificate "
                        + "would be up to " + size + " bytes DER; profile '" + profile.name() + "' allows at most "
                        + profile.maxDerBytes() + " (trent.profiles." + profile.name() + ".max-der-bytes). A shorter "
                        + "device id or fewer and shorter DNS names would fit; the operator can also leave out the "
                        + "OCSP or caIssuers URL (trent.profiles." + profile.name() + ".ocsp-url, .ca-issuers-url).");
            }
        }
    }

    /**
     * Refuses a device id that {@link TrentProperties.Mosquitto#reserves} (400
     * {@code device-id-reserved}): tokens refuse it already; this catches every other way to a
     * device id (IDevID).
     */
    record DeviceIdNotReserved(TrentProperties.Mosquitto broker) implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            IssuanceService.checkNotReserved(broker, i.subject().name(), i.subject().profile());
        }
    }

    /**
     * Persist first, durably: the serial and the hash of the exact TBS are committed as PENDING
     * (outside the caller's transaction, see {@link CertificateStore}) before any signature
     * exists; a caller's transaction that does not commit leaves the row ABANDONED, never
     * PENDING (a failed signature, store, audit or commit). When the outcome of the commit is
     * unknown (the connection broke during it), the row stays PENDING and the sweeper
     * ({@link ReservationSweeper}) decides after {@code trent.issuance.pending-timeout}: if the
     * commit did happen, the row is ISSUED and the sweeper leaves it alone.
     */
    record Reserve(CertificateReservations store, Clock clock) implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            Issuance.Subject s = i.subject();
            Instant now = clock.instant();
            String serial = i.serialHex();
            long id;
            try {
                id = store.reserve(new CertificateStore.Pending(s.issuer().id(), serial, i.recordDeviceId(),
                        s.profileName(), CertificateFactory.subject(s.name()).toString(), s.dnsNames(), i.notBefore(),
                        i.notAfter(), s.keyType().name(), s.publicKeySha256(), Hashes.sha256Hex(i.tbs()), now));
            } catch (CertificateStore.KeyBlockedException e) {
                throw DomainException.invalid("key-refused", "Key refused", "This public key was reported "
                        + "compromised (keyCompromise) and will not be certified again. Generate a new key pair.");
            }
            i.reserved(id, now);
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCompletion(int status) {
                    if (status == STATUS_ROLLED_BACK) {
                        try {
                            store.abandon(id);
                        } catch (RuntimeException e) {
                            // PostgreSQL unreachable: the sweeper abandons it later.
                            LoggerFactory.getLogger(IssuanceService.class).warn(
                                    "Reservation of certificate {} not marked abandoned ({}); the sweeper will",
                                    serial, e.toString());
                        }
                    }
                }
            });
        }
    }

    /**
     * The CA key signs exactly the reserved TBS bytes; never without a reservation (a flow that
     * lists Sign before {@link Reserve} fails here, before anything is signed).
     */
    record Sign() implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            if (i.reservationId() < 0) {
                throw new IllegalStateException("nothing is signed before its serial and TBS hash are reserved");
            }
            String what = switch (i.subject().kind()) {
                case DEVICE -> "certificate " + i.serialHex();
                case TLS_SERVER -> "the TLS server certificate";
                case OCSP_RESPONDER -> "the OCSP responder certificate";
            };
            org.bouncycastle.cert.X509CertificateHolder holder = CertificateFactory.signTbs(i.built(), i.signer(), what);
            try {
                i.signed(holder, holder.getEncoded());
            } catch (IOException e) {
                throw new IllegalStateException("signed certificate cannot be encoded", e);
            }
        }
    }

    /**
     * The DER stored in the caller's transaction (ISSUED); with an enrollment token, the token is
     * linked and marked used in the same statement. The statement goes with the transaction's
     * other writes (WriteBehind), and so does its check: a key reported compromised meanwhile
     * refuses the enrollment then.
     */
    record Store(CertificateReservations store) implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            try {
                // The hash of the TBS inside the signed DER must be the reserved one (same statement).
                store.storeSigned(i.reservationId(), i.der(), Hashes.sha256Hex(i.holder().toASN1Structure()
                        .getTBSCertificate().getEncoded(org.bouncycastle.asn1.ASN1Encoding.DER)), i.subject().tokenId(),
                        i.issuedAt(), () -> DomainException.invalid("key-refused", "Key refused", "This public key "
                                + "was reported compromised (keyCompromise) while the certificate was being issued; "
                                + "nothing was issued. Generate a new key pair."));
            } catch (IOException e) {
                throw new IllegalStateException("signed certificate cannot be encoded", e);
            }
        }
    }

    /**
     * {@code certificate.issued} by {@code system} for Trent's own certificates (device flows
     * audit as the device, with what authorised them, in enrollment).
     */
    record AuditIssued(AuditLog audit) implements IssuanceStage {
        @Override
        public void apply(Issuance i) {
            java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
            details.put("profile", i.subject().profileName());
            details.put("issuerId", i.issuer().id());
            details.putAll(i.auditDetails());
            details.put("notAfter", i.notAfter().toString());
            audit.record("system", "certificate.issued", i.serialHex(), details);
        }
    }
}
