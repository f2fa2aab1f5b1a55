package dev.trent.audit;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.domain.UnavailableException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reading the audit log ({@code GET /api/v1/audit}), verifying it ({@code /verify}), and signing
 * its head: every {@code trent.audit.checkpoint-interval}, when events were chained since the
 * last checkpoint, the active issuer's key (keystore or HSM) signs (seq, hash, time) and the
 * checkpoint is stored. One instance at a time signs (an advisory lock); a checkpoint ties the
 * whole chain up to it to the CA key, so rewriting the chain from an edited event onwards, which
 * the database owner could do, no longer verifies.
 */
@Service
public class AuditTrail {

    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);
    private static final long CHECKPOINT_LOCK = 7303712L;

    private final JdbcTemplate jdbc;
    private final DataSource dataSource;
    private final CheckpointSigner keys;
    private final Clock clock;
    private final JsonMapper json = JsonMapper.builder().build();

    private final ObjectProvider<AuditTrail> self;

    AuditTrail(JdbcTemplate jdbc, DataSource dataSource, CheckpointSigner keys, Clock clock,
            ObjectProvider<AuditTrail> self) {
        this.self = self;
        this.jdbc = jdbc;
        this.dataSource = dataSource;
        this.keys = keys;
        this.clock = clock;
    }

    /** One event as the API shows it, with its place in the chain. */
    public record Event(long seq, long id, Instant occurredAt, String actor, String action, String subject,
            JsonNode details, String hash) {
    }

    /** A page, newest first, and the {@code beforeSeq} that fetches the next (older) page, or null. */
    public record Page(List<Event> events, Long nextBeforeSeq) {
    }

    /**
     * Chained events, newest first, before {@code beforeSeq} (exclusive; null: from the head),
     * optionally only those with this action, actor or subject.
     */
    public Page page(Long beforeSeq, int limit, String action, String actor, String subject) {
        StringBuilder sql = new StringBuilder("select ch.seq, e.id, e.occurred_at, e.actor, e.action, e.subject, "
                + "e.details::text, ch.hash from audit_chain ch join audit_event e on e.id = ch.event_id where true");
        List<Object> args = new ArrayList<>();
        if (beforeSeq != null) {
            sql.append(" and ch.seq < ?");
            args.add(beforeSeq);
        }
        if (action != null) {
            sql.append(" and e.action = ?");
            args.add(action);
        }
        if (actor != null) {
            sql.append(" and e.actor = ?");
            args.add(actor);
        }
        if (subject != null) {
            sql.append(" and e.subject = ?");
            args.add(subject);
        }
        sql.append(" order by ch.seq desc limit ?");
        args.add(limit + 1);
        List<Event> rows = jdbc.query(sql.toString(), (rs, n) -> new Event(rs.getLong(1), rs.getLong(2),
                rs.getTimestamp(3).toInstant(), rs.getString(4), rs.getString(5), rs.getString(6),
                json.readTree(rs.getString(7)), HexFormat.of().formatHex(rs.getBytes(8))), args.toArray());
        if (rows.size() > limit) {
            List<Event> page = rows.subList(0, limit);
            return new Page(List.copyOf(page), page.get(page.size() - 1).seq());
        }
        return new Page(rows, null);
    }

    /** Verifies chain and checkpoints (see {@link AuditVerifier}). */
    public AuditVerifier.Report verify(AuditVerifier.Expectation expected) {
        // Trust for checkpoint signatures comes from the CA's key container (keystore, token or
        // chain file), not from the database being verified.
        List<java.security.cert.X509Certificate> roots = keys.roots();
        java.sql.Connection c = DataSourceUtils.getConnection(dataSource);
        try {
            return AuditVerifier.verify(c, roots, expected);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot read the audit log: " + e.getMessage(), e);
        } finally {
            DataSourceUtils.releaseConnection(c, dataSource);
        }
    }

    /** How many events one call of {@code audit_chain_seal} chains at most (one transaction). */
    private static final int SEAL_BATCH = 5000;

    /**
     * Chains the events committed since the last run (V7's {@code audit_chain_seal}, one
     * instance at a time), in batches until none is left. Off the commit path of every audited
     * action: chaining there would serialise them all behind one lock (bench/README.md).
     */
    @Scheduled(initialDelay = 0, fixedDelayString = "${trent.audit.seal-interval:250ms}")
    void seal() {
        try {
            Integer n;
            do {
                n = jdbc.queryForObject("select audit_chain_seal(?)", Integer.class, SEAL_BATCH);
            } while (n != null && n == SEAL_BATCH);
        } catch (RuntimeException e) {
            log.warn("Audit chain not sealed now ({}); next attempt shortly", e.getMessage());
        }
    }

    /**
     * Chains every event whose transaction had ended or was running when this was called (so
     * that what a caller just did is in the chain), waiting up to {@code maxWait} for those still
     * running. Returns whether they all made it.
     */
    public boolean sealCommitted(java.time.Duration maxWait) {
        Long until = jdbc.queryForObject("select txid_snapshot_xmax(txid_current_snapshot())", Long.class);
        long deadline = System.nanoTime() + maxWait.toNanos();
        while (true) {
            // Checked before sealing: once every transaction up to the call has ended, this
            // seal takes the last of them.
            boolean ended = Boolean.TRUE.equals(jdbc.queryForObject(
                    "select txid_snapshot_xmin(txid_current_snapshot()) >= ?", Boolean.class, until));
            seal();
            if (ended) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    @Scheduled(initialDelayString = "${trent.audit.checkpoint-interval:10m}",
            fixedDelayString = "${trent.audit.checkpoint-interval:10m}")
    void scheduledCheckpoint() {
        try {
            sealCommitted(java.time.Duration.ofSeconds(5));
            // Through the proxy, so that checkpoint() runs in its transaction (its advisory lock
            // holds until the checkpoint is stored).
            self.getObject().checkpoint();
        } catch (UnavailableException e) {
            log.warn("Audit checkpoint not signed now (the CA cannot sign: {}); next attempt in one interval",
                    e.getMessage());
        } catch (RuntimeException e) {
            log.error("Audit checkpoint failed", e);
        }
    }

    /**
     * Signs the chain's head now if it moved since the last checkpoint (and no other instance is
     * signing). Returns the checkpoint's seq, or null when there was nothing new to sign.
     */
    @Transactional
    public Long checkpoint() {
        Boolean locked = jdbc.queryForObject("select pg_try_advisory_xact_lock(?)", Boolean.class, CHECKPOINT_LOCK);
        if (!Boolean.TRUE.equals(locked)) {
            return null;
        }
        List<Map<String, Object>> head = jdbc.queryForList("select seq, hash from audit_chain order by seq desc limit 1");
        if (head.isEmpty()) {
            return null;
        }
        long seq = ((Number) head.get(0).get("seq")).longValue();
        byte[] hash = (byte[]) head.get(0).get("hash");
        Long signed = jdbc.queryForObject("select max(seq) from audit_checkpoint", Long.class);
        if (signed != null && signed >= seq) {
            return null;
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        long micros = ChronoUnit.MICROS.between(Instant.EPOCH, now);
        CheckpointSigner.Signature signature = keys.sign(AuditVerifier.checkpointMessage(seq, hash, micros));
        jdbc.update("insert into audit_checkpoint (seq, hash, created_at, issuer_id, signature_algorithm, signature, "
                + "signer_certificate) values (?, ?, ?, ?, ?, ?, ?)", seq, hash, Timestamp.from(now), signature.issuerId(),
                signature.algorithmOid(), signature.value(), signature.signerCertificate());
        // Recorded outside the database too: an auditor can later check that the chain still
        // holds this hash at this entry (audit verify --expect), whatever the database owner did.
        log.info("Audit checkpoint: entry {} hash {} signed by issuer {}", seq, HexFormat.of().formatHex(hash),
                signature.issuerId());
        return seq;
    }
}
