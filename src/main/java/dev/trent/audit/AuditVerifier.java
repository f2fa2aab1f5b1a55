package dev.trent.audit;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * Checks the audit log's hash chain and its signed checkpoints, from the rows alone: the API
 * ({@code GET /api/v1/audit/verify}) and the CLI ({@code java -jar trent.jar audit verify}) run
 * the same code. The event's canonical form is computed here, independently of the database's
 * {@code audit_canonical} (the trigger's), so that replacing that function hides nothing.
 *
 * <p>Streams the chain in seq order (constant memory whatever the log's size).
 */
public final class AuditVerifier {

    /** The first thing found wrong: where, and what. */
    public record Broken(long seq, Long eventId, String reason) {
    }

    /** What was checked and whether it holds. */
    /**
     * @param events  chain entries checked
     * @param pending events committed after the chain's head, not chained yet (the sealer takes
     *                them within a second or so); not an error
     */
    public record Report(boolean valid, long events, long pending, long checkpoints, Long headSeq, String headHash,
            Long lastCheckpointSeq, Broken firstBroken) {
    }

    private static final byte[] ZERO = new byte[32];

    private AuditVerifier() {
    }

    /**
     * An entry's hash recorded outside the database (the application log prints every
     * checkpoint's): the chain must still hold it.
     */
    public record Expectation(long seq, byte[] hash) {

        /** {@code <entry>:<64 hex digits>}; null when {@code text} is not that. */
        public static Expectation parse(String text) {
            String[] parts = text.split(":", 2);
            try {
                long seq = Long.parseLong(parts[0]);
                byte[] hash = HexFormat.of().parseHex(parts[1]);
                return seq >= 1 && hash.length == 32 ? new Expectation(seq, hash) : null;
            } catch (RuntimeException e) {
                return null;
            }
        }
    }

    /**
     * Verifies the chain: seq 1, 2, 3, ... without gaps; each row's prev_hash is the previous
     * row's hash; each hash is SHA-256(prev_hash || canonical(event)) of the event as stored now;
     * every event older than the head is in the chain; the {@code expected} entry, if any, still
     * has its hash. Then every checkpoint: its hash is the chain's at its seq, its signer is one of
     * Trent's issuers chaining to one of {@code trustedRoots} (trust from outside the database:
     * the CA's key container, or the CLI's argument), and its signature verifies. Reports the
     * first broken link.
     */
    public static Report verify(Connection c, List<X509Certificate> trustedRoots, Expectation expected)
            throws SQLException {
        Long expectSeq = expected == null ? null : expected.seq();
        byte[] expectHash = expected == null ? null : expected.hash();
        long events = 0;
        long headTxid = 0;
        long headEvent = 0;
        byte[] last = ZERO;
        long lastSeq = 0;
        Broken broken = null;
        // Streaming needs a transaction (PostgreSQL's cursor-based fetch).
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("""
                select ch.seq, ch.event_id, ch.prev_hash, ch.hash, e.id, e.occurred_at_us, e.actor, e.action,
                       e.subject, e.details, ch.txid
                from audit_chain ch left join (
                    select id, (extract(epoch from occurred_at) * 1000000)::bigint as occurred_at_us, actor, action,
                           subject, details::text as details
                    from audit_event) e on e.id = ch.event_id
                order by ch.seq""")) {
            ps.setFetchSize(1000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong(1);
                    long eventId = rs.getLong(2);
                    headTxid = rs.getLong(11);
                    headEvent = eventId;
                    byte[] prev = rs.getBytes(3);
                    byte[] hash = rs.getBytes(4);
                    events++;
                    if (broken != null) {
                        continue;
                    }
                    if (seq != lastSeq + 1) {
                        broken = new Broken(lastSeq + 1, null, "chain entries " + (lastSeq + 1) + " to " + (seq - 1)
                                + " are missing (removed)");
                    } else if (!Arrays.equals(prev, last)) {
                        broken = new Broken(seq, eventId, "prev_hash is not the hash of entry " + lastSeq);
                    } else if (rs.getObject(5) == null) {
                        broken = new Broken(seq, eventId, "event " + eventId + " is missing (removed)");
                    } else {
                        byte[] canonical = canonical(rs.getLong(5), rs.getLong(6), rs.getString(7), rs.getString(8),
                                rs.getString(9), rs.getString(10));
                        if (!Arrays.equals(hash, chainHash(prev, canonical))) {
                            broken = new Broken(seq, eventId, "event " + eventId + " does not match its hash "
                                    + "(changed after it was recorded), or the hash was changed");
                        }
                    }
                    if (broken == null && expectSeq != null && seq == expectSeq && !Arrays.equals(hash, expectHash)) {
                        broken = new Broken(seq, eventId, "entry " + seq + " is not the hash recorded outside the "
                                + "database (" + HexFormat.of().formatHex(expectHash) + "): the chain was rewritten");
                    }
                    last = hash;
                    lastSeq = seq;
                }
            }
        } finally {
            c.rollback(); // read only; never commits a caller's work
            c.setAutoCommit(autoCommit);
        }
        if (broken == null && expectSeq != null && expectSeq > lastSeq) {
            broken = new Broken(expectSeq, null, "entry " + expectSeq + ", recorded outside the database, is missing: "
                    + "the chain was cut back to " + lastSeq);
        }
        String head = lastSeq == 0 ? null : HexFormat.of().formatHex(last);
        // Events not in the chain: before the head (in the sealer's (txid, id) order) they were
        // slipped in past it; after it they are pending, committed since the sealer last ran.
        long pending = 0;
        try (PreparedStatement ps = c.prepareStatement("""
                select e.id, (coalesce(e.txid, 0), e.id) < (?, ?) from audit_event e
                where not exists (select 1 from audit_chain ch where ch.event_id = e.id)
                order by coalesce(e.txid, 0), e.id""")) {
            ps.setLong(1, headTxid);
            ps.setLong(2, headEvent);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(2)) {
                        if (broken == null) {
                            broken = new Broken(lastSeq + 1, rs.getLong(1), "event " + rs.getLong(1) + " is not in "
                                    + "the chain but older than its head (inserted past the sealer)");
                        }
                    } else {
                        pending++;
                    }
                }
            }
        }
        long checkpoints = 0;
        Long lastCheckpoint = null;
        try (PreparedStatement ps = c.prepareStatement("""
                select cp.id, cp.seq, cp.hash, (extract(epoch from cp.created_at) * 1000000)::bigint, cp.signature_algorithm,
                       cp.signature, cp.signer_certificate, ch.hash,
                       exists (select 1 from issuer i where i.certificate_der = cp.signer_certificate)
                from audit_checkpoint cp left join audit_chain ch on ch.seq = cp.seq order by cp.id""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                checkpoints++;
                long seq = rs.getLong(2);
                lastCheckpoint = seq;
                if (broken != null) {
                    continue;
                }
                byte[] hash = rs.getBytes(3);
                String problem = null;
                if (rs.getBytes(8) == null || !Arrays.equals(hash, rs.getBytes(8))) {
                    problem = "checkpoint " + rs.getLong(1) + " signed a different hash at entry " + seq
                            + " (the chain was rewritten since)";
                } else {
                    X509Certificate signer = certificate(rs.getBytes(7));
                    if (signer == null || !rs.getBoolean(9) || !chainsTo(signer, trustedRoots)) {
                        problem = "checkpoint " + rs.getLong(1) + " is signed by a certificate that is not one of "
                                + "Trent's issuers under the trusted root(s)";
                    } else if (!signatureValid(signer, rs.getString(5), checkpointMessage(seq, hash, rs.getLong(4)),
                            rs.getBytes(6))) {
                        problem = "checkpoint " + rs.getLong(1) + " has an invalid signature";
                    }
                }
                if (problem != null) {
                    broken = new Broken(seq, null, problem);
                }
            }
        }
        return new Report(broken == null, events, pending, checkpoints, lastSeq == 0 ? null : lastSeq, head,
                lastCheckpoint, broken);
    }

    /** The certificate, or null when the bytes are not one. */
    private static X509Certificate certificate(byte[] der) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                    new ByteArrayInputStream(der));
        } catch (GeneralSecurityException e) {
            return null;
        }
    }

    /** Whether the certificate is one of the roots or is signed by one of them. */
    private static boolean chainsTo(X509Certificate cert, List<X509Certificate> roots) {
        for (X509Certificate root : roots) {
            if (root.equals(cert)) {
                return true;
            }
            if (root.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
                try {
                    cert.verify(root.getPublicKey());
                    return true;
                } catch (GeneralSecurityException e) {
                    // another root of the same name; try the next
                }
            }
        }
        return false;
    }

    /** SHA-256(prev || canonical). */
    static byte[] chainHash(byte[] prev, byte[] canonical) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(prev);
            return d.digest(canonical);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The event's canonical bytes: UTF-8 of the JSON array {@code [id, occurredAtMicros, actor,
     * action, subject, details]} as PostgreSQL's {@code jsonb_build_array(...)::text} writes it
     * (elements separated by ", ", strings escaped as PostgreSQL escapes JSON), with
     * {@code details} as PostgreSQL's normalized jsonb text.
     */
    static byte[] canonical(long id, long occurredAtMicros, String actor, String action, String subject,
            String details) {
        StringBuilder b = new StringBuilder(64 + details.length());
        b.append('[').append(id).append(", ").append(occurredAtMicros).append(", ");
        string(b, actor).append(", ");
        string(b, action).append(", ");
        (subject == null ? b.append("null") : string(b, subject)).append(", ");
        b.append(details).append(']');
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A JSON string as PostgreSQL's escape_json writes it. */
    private static StringBuilder string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (ch < ' ') {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"');
    }

    /** What a checkpoint's signature covers. */
    public static byte[] checkpointMessage(long seq, byte[] hash, long createdAtMicros) {
        return ("trent-audit-checkpoint-v1\n" + seq + "\n" + HexFormat.of().formatHex(hash) + "\n" + createdAtMicros
                + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Whether {@code signature} over {@code message} verifies with the certificate's key, by the algorithm's OID. */
    private static boolean signatureValid(X509Certificate cert, String algorithmOid, byte[] message, byte[] signature) {
        try {
            org.bouncycastle.operator.ContentVerifier v = new org.bouncycastle.operator.jcajce
                    .JcaContentVerifierProviderBuilder().setProvider(dev.trent.pki.Providers.BC).build(cert)
                    .get(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                            new org.bouncycastle.asn1.ASN1ObjectIdentifier(algorithmOid)));
            try (java.io.OutputStream out = v.getOutputStream()) {
                out.write(message);
            }
            return v.verify(signature);
        } catch (org.bouncycastle.operator.OperatorCreationException | java.io.IOException | RuntimeException e) {
            return false; // an unknown algorithm or a malformed signature verifies nothing
        }
    }
}
