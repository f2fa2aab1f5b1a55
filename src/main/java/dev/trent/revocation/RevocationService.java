package dev.trent.revocation;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.audit.AuditLog;
import dev.trent.domain.DomainException;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateEvent;
import dev.trent.inventory.CertificateStatus;
import dev.trent.inventory.CertificateRevocations;
import dev.trent.inventory.CertificateStore;
import dev.trent.inventory.CertificateStore.Revocable;
import dev.trent.pki.SerialNumbers;

/**
 * Revocation, holds and their release, one certificate or many. Each change locks the
 * certificate's row, follows the RFC 5280 reason rules, writes an audit event in the same
 * transaction, and announces that the issuer's CRL and OCSP answers must change.
 *
 * <p>Rules: revoking again with the same reason changes nothing; a hold
 * ({@code certificateHold}) may be released or made permanent with any other reason; a
 * permanent revocation may only be escalated to {@code keyCompromise}. A keyCompromise blocks
 * the public key: every other certificate for it is revoked too and enrollment refuses it; and
 * the certificates renewed from it (transitively) are revoked as keyCompromise as well.
 */
@Service
public class RevocationService {

    private static final Logger log = LoggerFactory.getLogger(RevocationService.class);

    private final JdbcTemplate jdbc;
    private final CertificateStore certificates;
    /** The writes of revocation (the store's statements, reached only from here). */
    private final CertificateRevocations writes;
    private final AuditLog audit;
    private final Clock clock;
    private final ApplicationEventPublisher events;
    private final RevocationMetrics metrics;

    RevocationService(JdbcTemplate jdbc, CertificateStore certificates, CertificateRevocations writes, AuditLog audit, Clock clock,
            ApplicationEventPublisher events, RevocationMetrics metrics) {
        this.metrics = metrics;
        this.jdbc = jdbc;
        this.certificates = certificates;
        this.writes = writes;
        this.audit = audit;
        this.clock = clock;
        this.events = events;
    }

    /** Published (inside the transaction) when an issuer's revocation status changed. */
    public record RevocationChanged(String issuerId) {
    }

    /**
     * The earliest invalidity date accepted. Not the certificate's notBefore: a key can be
     * compromised before a certificate for it was issued (RFC 5280 section 5.3.2 dates the key's
     * compromise); but not so far back that the date overflows a timestamp.
     */
    static final Instant EARLIEST_INVALIDITY = Instant.parse("1970-01-01T00:00:00Z");

    @Transactional
    public Certificate revoke(String serial, RevocationReason reason, Instant invalidityDate, String actor) {
        Instant now = clock.instant();
        if (invalidityDate != null && invalidityDate.isAfter(now)) {
            throw DomainException.invalid("invalidityDate may not lie in the future.");
        }
        if (invalidityDate != null && invalidityDate.isBefore(EARLIEST_INVALIDITY)) {
            throw DomainException.invalid("invalidityDate may not lie before " + EARLIEST_INVALIDITY + ".");
        }
        Revocable row = lock(serial);
        apply(row, reason, invalidityDate, now, actor, null);
        return reload(row.serial());
    }

    @Transactional
    public Certificate unhold(String serial, String actor) {
        Revocable row = lock(serial);
        if (row.status() != CertificateStatus.REVOKED || !RevocationReason.certificateHold.name().equals(row.reason())) {
            throw DomainException.conflict("not-on-hold", "Certificate not on hold", "Certificate " + row.serial()
                    + (row.reason() == null ? " is not revoked" : " is revoked with reason " + row.reason())
                    + "; only a certificateHold can be released.");
        }
        writes.release(row.id());
        audit.record(actor, "certificate.unheld", row.serial(), Map.of("issuerId", row.issuerId()));
        events.publishEvent(CertificateEvent.unheld(row.serial(), row.deviceId(), row.profile(), clock.instant()));
        metrics.released();
        changed(row.issuerId());
        return reload(row.serial());
    }

    /** What a bulk revocation selects: exactly one of the three. */
    public record Selection(String deviceId, String profile, UUID batchId) {
    }

    /** The outcome of a bulk revocation or its dry run. */
    public record BulkResult(boolean dryRun, String reason, int count, List<String> serials) {
    }

    /**
     * Revokes every certificate that the selection matches and that is valid or on hold (a
     * hold becomes the given reason). With {@code dryRun}, only says which they would be.
     */
    @Transactional
    public BulkResult revokeAll(Selection selection, RevocationReason reason, boolean dryRun, String actor) {
        int criteria = (selection.deviceId() != null ? 1 : 0) + (selection.profile() != null ? 1 : 0)
                + (selection.batchId() != null ? 1 : 0);
        if (criteria != 1) {
            throw DomainException.invalid("Select the certificates by exactly one of deviceId, profile "
                    + "or batchId.");
        }
        List<Revocable> rows = certificates.selectForBulk(selection.deviceId(), selection.profile(),
                selection.batchId(), reason.name(), !dryRun);
        List<String> serials = rows.stream().map(Revocable::serial).toList();
        if (!dryRun) {
            Instant now = clock.instant();
            UUID bulkId = UUID.randomUUID();
            for (Revocable row : rows) {
                apply(row, reason, null, now, actor, bulkId);
            }
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("bulkId", bulkId.toString());
            details.put("reason", reason.name());
            details.put("selection", selection.toString());
            details.put("count", rows.size());
            audit.record(actor, "certificate.bulk-revoked", "bulk:" + bulkId, details);
        }
        return new BulkResult(dryRun, reason.name(), serials.size(), serials);
    }

    /**
     * What a bulk revocation would do: the certificates the selection matches, and (for
     * keyCompromise) the others it also revokes by the rule {@link #blockKey} applies (same key,
     * renewals, down the lineage). {@code digest} names both lists, for {@link #revokeAllAsPlanned}.
     */
    public record BulkPlan(String reason, List<String> selected, List<String> cascade, String digest) {
    }

    /** The outcome of {@link #revokeAllAsPlanned}: the plan as it stands, and the revocation if it was done. */
    public record PlannedResult(BulkPlan plan, java.util.Optional<BulkResult> done) {
    }

    /**
     * The dry run of a bulk revocation, with its cascade. (Not read-only: the cascade comes from
     * the very queries that revoking locks with, held only for this short transaction.)
     */
    @Transactional
    public BulkPlan planAll(Selection selection, RevocationReason reason) {
        return plan(selectBulk(selection, reason, false), reason);
    }

    /**
     * Revokes as {@link #planAll} planned, in one transaction: the selection and its cascade are
     * locked, and when they are no longer what the plan with this {@code digest} named, nothing
     * is revoked and the current plan is returned instead ({@code done} empty).
     */
    @Transactional
    public PlannedResult revokeAllAsPlanned(Selection selection, RevocationReason reason, String digest,
            String actor) {
        List<Revocable> rows = selectBulk(selection, reason, true);
        BulkPlan now = plan(rows, reason);
        if (!now.digest().equals(digest)) {
            return new PlannedResult(now, java.util.Optional.empty());
        }
        BulkResult done = revokeAll(selection, reason, false, actor);
        return new PlannedResult(now, java.util.Optional.of(done));
    }

    /** What a keyCompromise of this one certificate would also revoke (same key, renewals), by {@link #blockKey}'s rule. */
    @Transactional
    public List<String> keyCompromiseCascade(String serial) {
        String canonical = SerialNumbers.canonical(serial);
        return canonical == null ? List.of() : certificates.lockDelivered(canonical)
                .map(row -> plan(List.of(row), RevocationReason.keyCompromise).cascade()).orElse(List.of());
    }

    private List<Revocable> selectBulk(Selection selection, RevocationReason reason, boolean lock) {
        int criteria = (selection.deviceId() != null ? 1 : 0) + (selection.profile() != null ? 1 : 0)
                + (selection.batchId() != null ? 1 : 0);
        if (criteria != 1) {
            throw DomainException.invalid("Select the certificates by exactly one of deviceId, profile "
                    + "or batchId.");
        }
        return certificates.selectForBulk(selection.deviceId(), selection.profile(), selection.batchId(),
                reason.name(), lock);
    }

    private BulkPlan plan(List<Revocable> rows, RevocationReason reason) {
        List<String> selected = rows.stream().map(Revocable::serial).toList();
        java.util.Set<String> cascade = new java.util.LinkedHashSet<>();
        if (reason == RevocationReason.keyCompromise) {
            java.util.Set<Long> seen = new java.util.HashSet<>();
            rows.forEach(r -> seen.add(r.id()));
            java.util.ArrayDeque<Revocable> todo = new java.util.ArrayDeque<>(rows);
            while (!todo.isEmpty()) {
                Revocable source = todo.poll();
                for (Revocable other : certificates.lockOthersOfKey(source.keyHash(), source.id())) {
                    if (seen.add(other.id())) {
                        cascade.add(other.serial());
                    }
                }
                for (Revocable renewal : certificates.lockRenewalsOf(source.id())) {
                    if (seen.add(renewal.id())) {
                        cascade.add(renewal.serial());
                        todo.add(renewal);
                    }
                }
            }
        }
        java.security.MessageDigest sha;
        try {
            sha = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update((reason.name() + "\n" + String.join(",", selected) + "\n" + String.join(",", cascade))
                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        return new BulkPlan(reason.name(), selected, List.copyOf(cascade),
                java.util.HexFormat.of().formatHex(sha.digest()));
    }

    private void apply(Revocable row, RevocationReason reason, Instant invalidityDate, Instant now, String actor,
            UUID bulkId) {
        apply(row, reason, invalidityDate, now, actor, bulkId, null);
    }

    /** @param renewedFrom the compromised certificate this one was renewed from, when that is why */
    private void apply(Revocable row, RevocationReason reason, Instant invalidityDate, Instant now, String actor,
            UUID bulkId, String renewedFrom) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("reason", reason.name());
        if (renewedFrom != null) {
            details.put("renewedFrom", renewedFrom);
        }
        details.put("issuerId", row.issuerId());
        if (invalidityDate != null) {
            details.put("invalidityDate", invalidityDate.toString());
        }
        if (bulkId != null) {
            details.put("bulkId", bulkId.toString());
        }
        if (row.status() == CertificateStatus.ISSUED) {
            writes.revoke(row.id(), now, reason.name(), invalidityDate);
            audit.record(actor, "certificate.revoked", row.serial(), details);
            events.publishEvent(CertificateEvent.revoked(row.serial(), row.deviceId(), row.profile(), now, reason.name(), null));
            metrics.revoked(reason);
        } else if (reason.name().equals(row.reason())) {
            return; // the same revocation again: nothing changes
        } else if (RevocationReason.certificateHold.name().equals(row.reason())
                || reason == RevocationReason.keyCompromise) {
            if (reason == RevocationReason.certificateHold) {
                throw DomainException.conflict("revocation-conflict", "Revocation conflict", "Certificate "
                        + row.serial() + " is revoked with reason " + row.reason() + " and cannot be put on hold.");
            }
            // The revocation time stays: the certificate has not been usable since then.
            writes.changeReason(row.id(), reason.name(), invalidityDate);
            details.put("previousReason", row.reason());
            audit.record(actor, "certificate.revocation-changed", row.serial(), details);
            events.publishEvent(CertificateEvent.revoked(row.serial(), row.deviceId(), row.profile(), now, reason.name(), row.reason()));
            metrics.revoked(reason);
        } else {
            throw DomainException.conflict("revocation-conflict", "Revocation conflict", "Certificate " + row.serial()
                    + " is already revoked with reason " + row.reason() + "; only keyCompromise can replace it.");
        }
        changed(row.issuerId());
        if (reason == RevocationReason.keyCompromise) {
            blockKey(row, now, actor);
        }
    }

    /** Blocks the key and revokes every other valid or held certificate for it. */
    private void blockKey(Revocable source, Instant now, String actor) {
        if (writes.blockKey(source.keyHash(), now, source.serial(), actor)) {
            audit.record(actor, "key.blocked", source.keyHash(), Map.of("serial", source.serial()));
            log.warn("Key {} blocked after keyCompromise of certificate {}", source.keyHash(), source.serial());
        }
        // An issuance of the same key in progress (reserved, not yet stored) must not complete:
        // its reservation is abandoned here, so its store finds it no longer pending.
        int inFlight = writes.abandonPendingOfKey(source.keyHash());
        if (inFlight > 0) {
            log.warn("Key {} blocked: {} issuance(s) of it in progress abandoned", source.keyHash(), inFlight);
        }
        List<Revocable> others = certificates.lockOthersOfKey(source.keyHash(), source.id());
        for (Revocable other : others) {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("reason", RevocationReason.keyCompromise.name());
            details.put("issuerId", other.issuerId());
            details.put("sameKeyAs", source.serial());
            if (other.status() == CertificateStatus.ISSUED) {
                writes.revoke(other.id(), now, RevocationReason.keyCompromise.name(), null);
                audit.record(actor, "certificate.revoked", other.serial(), details);
                events.publishEvent(CertificateEvent.revoked(other.serial(), other.deviceId(), other.profile(), now, "keyCompromise", null));
                metrics.revoked(RevocationReason.keyCompromise);
            } else {
                writes.changeReason(other.id(), RevocationReason.keyCompromise.name(), null);
                details.put("previousReason", other.reason());
                audit.record(actor, "certificate.revocation-changed", other.serial(), details);
                events.publishEvent(CertificateEvent.revoked(other.serial(), other.deviceId(), other.profile(), now, "keyCompromise", other.reason()));
                metrics.revoked(RevocationReason.keyCompromise);
            }
            changed(other.issuerId());
        }
        // Renewals authenticated by the compromised key are as untrustworthy as it is (a thief
        // could have renewed, rekeying to a key of their own): revoked alike, their keys blocked,
        // and so on down the lineage.
        List<Revocable> renewals = certificates.lockRenewalsOf(source.id());
        for (Revocable renewal : renewals) {
            apply(renewal, RevocationReason.keyCompromise, null, now, actor, null, source.serial());
        }
    }

    /**
     * Marks the issuer's revocation state as changed (in this transaction, so every instance's
     * CRL publisher sees it once it commits) and tells this instance's publisher.
     */
    private void changed(String issuerId) {
        jdbc.update("update issuer set revocation_version = revocation_version + 1 where id = ?", issuerId);
        events.publishEvent(new RevocationChanged(issuerId));
    }

    private Revocable lock(String serial) {
        String canonical = SerialNumbers.canonical(serial);
        if (canonical == null) {
            throw DomainException.invalid("'" + serial.replaceAll("[^\\x20-\\x7e]", "?")
                    + "' is not a serial number (hexadecimal, optionally with colons).");
        }
        return certificates.lockDelivered(canonical)
                .orElseThrow(() -> DomainException.notFound("No certificate with serial " + canonical + "."));
    }

    private Certificate reload(String serial) {
        return certificates.bySerial(serial).orElseThrow();
    }
}
