package dev.trent.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import dev.trent.audit.AuditVerifier;
import dev.trent.pki.Pem;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code java -jar trent.jar audit verify --jdbc-url URL --user USER --trusted-root ROOT.pem
 * [--password-file FILE] [--expect SEQ:HASH]}: checks the audit log's hash chain and signed
 * checkpoints straight from PostgreSQL, without starting the service (an auditor may run it
 * against a replica or a restored backup with a read-only role). Checkpoint signers must chain
 * to the root given here, never to one the database names; {@code --expect} checks an entry's
 * hash recorded elsewhere (the application log prints every checkpoint's). Exit 0 when it
 * holds, 1 at the first broken link (printed), 2 on usage or connection errors. The password
 * comes from the file or the environment variable {@code TRENT_AUDIT_DB_PASSWORD}, never from
 * the command line. Arguments are parsed by picocli ({@link Cli}).
 */
@Command(name = "java -jar trent.jar audit", customSynopsis = "java -jar trent.jar audit verify [options]   "
        + "('audit help verify' shows them)", commandListHeading = "%nCommands:%n",
        subcommands = {AuditCli.Verify.class, HelpCommand.class})
public final class AuditCli implements Callable<Integer> {

    private final PrintStream out;
    private final PrintStream err;

    @CommandLine.Mixin
    private CaCli.Help help;

    @Spec
    private CommandSpec spec;

    private AuditCli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** @return 0 the log verifies (or help printed), 1 it is broken, 2 usage or connection errors */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return Cli.execute(new CommandLine(new AuditCli(out, err)), args, out, err,
                new Cli.Style("audit", "audit verify: ", 2, 2),
                ex -> ex instanceof NoSuchFileException e ? "no such file: " + e.getFile()
                        : ex instanceof IOException || ex instanceof SQLException || ex instanceof CertificateException
                        || ex instanceof IllegalArgumentException ? ex.getMessage() : null);
    }

    /** Without a command: the usage, where errors go. */
    @Override
    public Integer call() {
        spec.subcommands().get("verify").usage(err);
        return 2;
    }

    @Command(name = "verify", customSynopsis = {
        "java -jar trent.jar audit verify --jdbc-url jdbc:postgresql://HOST/DB --user USER",
        "         --trusted-root ROOT.pem [--password-file FILE] [--expect SEQ:HASH]",
        "         (or TRENT_AUDIT_DB_PASSWORD in the environment)"},
            description = "check the audit log's hash chain and signed checkpoints in PostgreSQL (exit 0 it holds, "
                    + "1 broken, 2 usage or connection errors)")
    static final class Verify implements Callable<Integer> {
        @ParentCommand
        AuditCli audit;

        @CommandLine.Mixin
        CaCli.Help help;

        @Option(names = "--jdbc-url", paramLabel = "URL", description = "the database, e.g. "
                + "jdbc:postgresql://db.example/trent (a replica or a restored backup will do)")
        String jdbcUrl;

        @Option(names = "--user", paramLabel = "USER", description = "a role that may read the audit tables")
        String user;

        @Option(names = "--password-file", paramLabel = "FILE",
                description = "its password (otherwise TRENT_AUDIT_DB_PASSWORD)")
        Path passwordFile;

        @Option(names = "--trusted-root", paramLabel = "ROOT.pem", description = "Trent's root certificate, PEM, "
                + "from a source you trust (GET /api/v1/ca/root or the ceremony's root.pem): checkpoint signers "
                + "must chain to it")
        Path trustedRoot;

        @Option(names = "--expect", paramLabel = "SEQ:HASH", converter = ExpectedHash.class,
                description = "an entry's hash recorded outside the database (a checkpoint's log line)")
        AuditVerifier.Expectation expected;

        @Override
        public Integer call() throws IOException, SQLException, CertificateException {
            PrintStream err = audit.err;
            PrintStream out = audit.out;
            if (jdbcUrl == null || trustedRoot == null) {
                err.println("audit verify: --jdbc-url and --trusted-root (Trent's root certificate, PEM, from a "
                        + "source you trust: GET /api/v1/ca/root or the ceremony's root.pem) are required");
                return 2;
            }
            String password = System.getenv("TRENT_AUDIT_DB_PASSWORD");
            if (passwordFile != null) {
                password = Files.readString(passwordFile, StandardCharsets.UTF_8).strip();
            }
            List<X509Certificate> roots = new ArrayList<>();
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Pem.Block b : Pem.decodeAll(Files.readString(trustedRoot, StandardCharsets.US_ASCII))) {
                if (b.label().equals("CERTIFICATE")) {
                    roots.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der())));
                }
            }
            if (roots.isEmpty()) {
                err.println("audit verify: no certificate in " + trustedRoot);
                return 2;
            }
            try (Connection c = DriverManager.getConnection(jdbcUrl, user, password)) {
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
        }
    }

    /** {@code <entry>:<64 hex digits>}. */
    static final class ExpectedHash implements ITypeConverter<AuditVerifier.Expectation> {
        @Override
        public AuditVerifier.Expectation convert(String value) {
            AuditVerifier.Expectation e = AuditVerifier.Expectation.parse(value);
            if (e == null) {
                throw new TypeConversionException("is <entry>:<64 hex digits>");
            }
            return e;
        }
    }
}
