package dev.trent.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.HashMap;
import java.util.Map;

import dev.trent.audit.AuditVerifier;

/**
 * {@code java -jar trent.jar audit verify --jdbc-url URL --user USER --trusted-root ROOT.pem
 * [--password-file FILE] [--expect SEQ:HASH]}: checks the audit log's hash chain and signed
 * checkpoints straight from PostgreSQL, without starting the service (an auditor may run it
 * against a replica or a restored backup with a read-only role). Checkpoint signers must chain
 * to the root given here, never to one the database names; {@code --expect} checks an entry's
 * hash recorded elsewhere (the application log prints every checkpoint's). Exit 0 when it
 * holds, 1 at the first broken link (printed), 2 on usage or connection errors. The password
 * comes from the file or the environment variable {@code TRENT_AUDIT_DB_PASSWORD}, never from
 * the command line.
 */
public final class AuditCli {

    private AuditCli() {
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || !args[0].equals("verify")) {
            err.println("usage: java -jar trent.jar audit verify --jdbc-url jdbc:postgresql://HOST/DB --user USER "
                    + "--trusted-root ROOT.pem [--password-file FILE] [--expect SEQ:HASH]   (or "
                    + "TRENT_AUDIT_DB_PASSWORD in the environment)");
            return 2;
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!java.util.Set.of("--jdbc-url", "--user", "--password-file", "--trusted-root", "--expect")
                    .contains(args[i]) || i + 1 >= args.length) {
                err.println("audit verify: unknown or incomplete option '" + args[i] + "'");
                return 2;
            }
            opts.put(args[i], args[++i]);
        }
        if (!opts.containsKey("--jdbc-url") || !opts.containsKey("--trusted-root")) {
            err.println("audit verify: --jdbc-url and --trusted-root (Trent's root certificate, PEM, from a source "
                    + "you trust: GET /api/v1/ca/root or the ceremony's root.pem) are required");
            return 2;
        }
        AuditVerifier.Expectation expected = null;
        if (opts.containsKey("--expect")) {
            expected = AuditVerifier.Expectation.parse(opts.get("--expect"));
            if (expected == null) {
                err.println("audit verify: --expect is <entry>:<64 hex digits>");
                return 2;
            }
        }
        String password = System.getenv("TRENT_AUDIT_DB_PASSWORD");
        try {
            if (opts.containsKey("--password-file")) {
                password = Files.readString(Path.of(opts.get("--password-file")), StandardCharsets.UTF_8).strip();
            }
            java.util.List<java.security.cert.X509Certificate> roots = new java.util.ArrayList<>();
            java.security.cert.CertificateFactory cf = java.security.cert.CertificateFactory.getInstance("X.509");
            for (dev.trent.pki.Pem.Block b : dev.trent.pki.Pem.decodeAll(Files.readString(
                    Path.of(opts.get("--trusted-root")), StandardCharsets.US_ASCII))) {
                if (b.label().equals("CERTIFICATE")) {
                    roots.add((java.security.cert.X509Certificate) cf.generateCertificate(
                            new java.io.ByteArrayInputStream(b.der())));
                }
            }
            if (roots.isEmpty()) {
                err.println("audit verify: no certificate in " + opts.get("--trusted-root"));
                return 2;
            }
            try (Connection c = DriverManager.getConnection(opts.get("--jdbc-url"), opts.get("--user"), password)) {
                c.setReadOnly(true);
                AuditVerifier.Report r = AuditVerifier.verify(c, roots, expected);
                out.println("events:      " + r.events() + (r.headSeq() == null ? "" : " (head " + r.headSeq() + ", "
                        + r.headHash() + ")") + (r.pending() == 0 ? "" : "; " + r.pending() + " pending (committed "
                        + "after the head, not chained yet)"));
                out.println("checkpoints: " + r.checkpoints() + (r.lastCheckpointSeq() == null ? ""
                        : " (last at entry " + r.lastCheckpointSeq() + ")"));
                if (r.valid()) {
                    out.println("OK: the chain and every checkpoint verify");
                    return 0;
                }
                out.println("BROKEN at entry " + r.firstBroken().seq() + (r.firstBroken().eventId() == null ? ""
                        : " (event " + r.firstBroken().eventId() + ")") + ": " + r.firstBroken().reason());
                return 1;
            }
        } catch (java.io.IOException | java.sql.SQLException | java.security.cert.CertificateException
                | IllegalArgumentException e) {
            err.println("audit verify: " + e.getMessage());
            return 2;
        }
    }
}
