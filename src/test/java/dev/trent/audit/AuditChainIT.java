package dev.trent.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.zaxxer.hikari.HikariDataSource;

import dev.trent.cli.AuditCli;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * The audit log is tamper-evident: events are hash-chained at commit and the head is signed by
 * the CA key; the API and the CLI find an event edited directly in PostgreSQL, and a chain
 * rewritten after the edit fails at the checkpoint. The application's role ({@code trent_app})
 * cannot change or remove audit rows, and Trent runs under it.
 *
 * <p>Each test has its own Trent and database: tampering must not leak into other tests.
 */
class AuditChainIT {

    @TempDir
    Path dir;

    private static final String ADMIN_KEY = IntegrationTest.ADMIN_KEY;

    private TrentApp start(Path data) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("trent.data-dir", data.toString());
        s.put("trent.bootstrap-admin-token", ADMIN_KEY);
        return TrentApp.start(s);
    }

    /** The database's JDBC URL without credentials (the embedded one's URL names its superuser). */
    private static String url(TrentApp app) {
        return ((HikariDataSource) app.context().getBean(DataSource.class)).getJdbcUrl().replaceAll("\\?.*$", "");
    }

    /** Some audited activity: a token, an enrollment, a revocation, an API key, a manufacturer CA with an awkward name. */
    private static void activity(TrentClient c) {
        String device = "audit-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        TrentClient.Response issued = c.enroll(c.token(ADMIN_KEY, device, "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(StandardCharsets.US_ASCII), null);
        assertThat(issued.status()).as(issued.toString()).isEqualTo(201);
        String serial = issued.certificates().get(0).getSerialNumber().toString(16);
        assertThat(c.postJson("/api/v1/certificates/" + serial + "/revoke", ADMIN_KEY,
                Map.of("reason", "cessationOfOperation")).status()).isEqualTo(200);
        // An awkward name, acting: it lands in the actor (escaped by the verifier's own code) and in details.
        TrentClient.Response key = c.postJson("/api/v1/api-keys", ADMIN_KEY, Map.of("name",
                "op \"one\"\n\\ ünï\tcode " + device, "role", "OPERATOR"));
        assertThat(key.status()).isEqualTo(201);
        c.token(key.json().get("key").asText(), device + "-2", "device", null);
    }

    private static JsonNode verify(TrentClient c) {
        TrentClient.Response r = c.get("/api/v1/audit/verify", ADMIN_KEY, null);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json();
    }

    private static HikariDataSource ds(TrentApp app) {
        return (HikariDataSource) app.context().getBean(DataSource.class);
    }

    /** A superuser connection to the app's database, as the database owner could open. */
    private static Connection owner(TrentApp app) throws java.sql.SQLException {
        return DriverManager.getConnection(url(app), ds(app).getUsername(), ds(app).getPassword());
    }

    private String[] cli(TrentApp app, String... more) throws Exception {
        Path pw = dir.resolve("db.pass");
        java.nio.file.Files.writeString(pw, ds(app).getPassword() == null ? "" : ds(app).getPassword());
        Path root = dir.resolve("root.pem");
        java.nio.file.Files.write(root, app.client().get("/api/v1/ca/root", null, null).body());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> args = new java.util.ArrayList<>(List.of("verify", "--jdbc-url", url(app), "--user",
                ds(app).getUsername(), "--password-file", pw.toString(), "--trusted-root", root.toString()));
        args.addAll(List.of(more));
        int exit = AuditCli.run(args.toArray(String[]::new),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new String[] {Integer.toString(exit), out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    void untouchedLogVerifiesPagesNewestFirstAndJavaCanonicalFormEqualsTheDatabases() throws Exception {
        try (TrentApp app = start(dir.resolve("a"))) {
            TrentClient c = app.client();
            activity(c);
            TrentClient.Response cp = c.postJson("/api/v1/audit/checkpoint", ADMIN_KEY, Map.of());
            assertThat(cp.status()).as(cp.toString()).isEqualTo(200);
            assertThat(cp.json().get("signed").asBoolean()).isTrue();
            assertThat(c.postJson("/api/v1/audit/checkpoint", ADMIN_KEY, Map.of()).json().get("signed").asBoolean())
                    .as("nothing new to sign").isFalse();

            JsonNode report = verify(c);
            assertThat(report.get("valid").asBoolean()).as(report.toString()).isTrue();
            assertThat(report.get("events").asLong()).isGreaterThanOrEqualTo(5);
            assertThat(report.get("checkpoints").asLong()).isEqualTo(1);
            assertThat(report.get("firstBroken").isNull()).isTrue();
            String[] cli = cli(app);
            assertThat(cli[0]).as(cli[1]).isEqualTo("0");
            assertThat(cli[1]).contains("OK");

            // Newest first, two at a time, to the first event.
            TrentClient.Response page = c.get("/api/v1/audit?limit=2", ADMIN_KEY, null);
            assertThat(page.status()).isEqualTo(200);
            List<Long> seqs = new java.util.ArrayList<>();
            page.json().get("events").forEach(e -> seqs.add(e.get("seq").asLong()));
            while (!page.json().get("nextBeforeSeq").isNull()) {
                page = c.get("/api/v1/audit?limit=2&beforeSeq=" + page.json().get("nextBeforeSeq").asLong(), ADMIN_KEY, null);
                page.json().get("events").forEach(e -> seqs.add(e.get("seq").asLong()));
            }
            assertThat(seqs).hasSize((int) report.get("events").asLong()).isSortedAccordingTo(java.util.Comparator.reverseOrder());
            assertThat(seqs.get(seqs.size() - 1)).isEqualTo(1L);
            TrentClient.Response revocations = c.get("/api/v1/audit?action=certificate.revoked", ADMIN_KEY, null);
            assertThat(revocations.json().get("events")).hasSize(1);
            assertThat(c.get("/api/v1/audit", null, null).status()).isEqualTo(401);

            // The Java canonical form (the verifier's) is byte for byte the database's (the trigger's).
            List<Map<String, Object>> rows = app.jdbc().queryForList("select e.id, (extract(epoch from e.occurred_at) "
                    + "* 1000000)::bigint as us, e.actor, e.action, e.subject, e.details::text as details, "
                    + "audit_canonical(e) as canonical from audit_event e order by id");
            assertThat(rows).isNotEmpty();
            assertThat(rows.stream().anyMatch(r -> ((String) r.get("actor")).contains("\n"))).as("an awkward actor")
                    .isTrue();
            for (Map<String, Object> r : rows) {
                assertThat(new String(AuditVerifier.canonical((Long) r.get("id"), (Long) r.get("us"),
                        (String) r.get("actor"), (String) r.get("action"), (String) r.get("subject"),
                        (String) r.get("details")), StandardCharsets.UTF_8))
                        .isEqualTo(new String((byte[]) r.get("canonical"), StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void anEventThatCommitsLateIsChainedAfterTheOnesThatCommittedWhileItWasOpenNeverSkipped() throws Exception {
        try (TrentApp app = start(dir.resolve("late"))) {
            TrentClient c = app.client();
            AuditTrail trail = app.context().getBean(AuditTrail.class);
            try (Connection slow = owner(app)) {
                slow.setAutoCommit(false);
                try (Statement st = slow.createStatement()) {
                    st.execute("insert into audit_event (occurred_at, actor, action, subject) "
                            + "values (now(), 'test', 'test.slow', 'first-recorded')");
                }
                // Meanwhile another event commits, and the sealer runs: it must wait for the open one.
                c.token(ADMIN_KEY, "late-" + java.util.UUID.randomUUID().toString().substring(0, 8), "device", null);
                trail.seal();
                assertThat(app.jdbc().queryForObject("select count(*) from audit_chain ch join audit_event e on "
                        + "e.id = ch.event_id where e.action = 'enrollment-token.created'", Integer.class))
                        .as("not chained past a transaction still open").isZero();
                JsonNode pending = verify(c);
                assertThat(pending.get("valid").asBoolean()).as(pending.toString()).isTrue();
                assertThat(pending.get("pending").asLong()).isPositive();
                slow.commit();
            }
            assertThat(trail.sealCommitted(java.time.Duration.ofSeconds(5))).isTrue();
            List<String> order = app.jdbc().queryForList("select e.action from audit_chain ch join audit_event e on "
                    + "e.id = ch.event_id where e.action in ('test.slow', 'enrollment-token.created') order by ch.seq",
                    String.class);
            assertThat(order).containsExactly("test.slow", "enrollment-token.created");
            JsonNode done = verify(c);
            assertThat(done.get("valid").asBoolean()).as(done.toString()).isTrue();
            assertThat(done.get("pending").asLong()).isZero();
        }
    }

    @Test
    void eventEditedInPostgresIsTheFirstBrokenLinkAndARewrittenChainFailsAtTheCheckpoint() throws Exception {
        try (TrentApp app = start(dir.resolve("b"))) {
            TrentClient c = app.client();
            activity(c);
            assertThat(c.postJson("/api/v1/audit/checkpoint", ADMIN_KEY, Map.of()).json().get("signed").asBoolean()).isTrue();
            activity(c);
            JsonNode before = verify(c);
            assertThat(before.get("valid").asBoolean()).isTrue();
            Map<String, Object> victim = app.jdbc().queryForMap("select ch.seq, e.id from audit_event e join audit_chain ch "
                    + "on ch.event_id = e.id where e.action = 'certificate.revoked' order by e.id limit 1");
            long seq = (Long) victim.get("seq");
            long id = (Long) victim.get("id");

            // Someone with the database owner's rights edits an event, triggers switched off.
            try (Connection db = owner(app);
                    Statement st = db.createStatement()) {
                st.execute("set session_replication_role = replica");
                assertThat(st.executeUpdate("update audit_event set details = '{\"reason\": \"superseded\"}' where id = "
                        + id)).isEqualTo(1);
            }

            JsonNode report = verify(c);
            assertThat(report.get("valid").asBoolean()).isFalse();
            assertThat(report.get("firstBroken").get("seq").asLong()).isEqualTo(seq);
            assertThat(report.get("firstBroken").get("eventId").asLong()).isEqualTo(id);
            assertThat(report.get("firstBroken").get("reason").asText()).contains("does not match its hash");
            String[] cli = cli(app);
            assertThat(cli[0]).as(cli[1]).isEqualTo("1");
            assertThat(cli[1]).contains("BROKEN at entry " + seq + " (event " + id + ")");

            // ... and then recomputes every hash from there on: the chain is consistent again, but
            // the checkpoint signed the old head, which the owner cannot re-sign without the CA key.
            try (Connection db = owner(app);
                    Statement st = db.createStatement()) {
                st.execute("set session_replication_role = replica");
                st.execute("""
                        do $$
                        declare r record; prev bytea;
                        begin
                          for r in select ch.seq, e from audit_chain ch join audit_event e on e.id = ch.event_id
                                   where ch.seq >= %d order by ch.seq loop
                            select hash into prev from audit_chain where seq = r.seq - 1;
                            update audit_chain set prev_hash = prev, hash = sha256(prev || audit_canonical(r.e))
                             where seq = r.seq;
                          end loop;
                        end $$""".formatted(seq));
            }
            JsonNode rewritten = verify(c);
            assertThat(rewritten.get("valid").asBoolean()).isFalse();
            assertThat(rewritten.get("firstBroken").get("reason").asText()).contains("checkpoint")
                    .contains("signed a different hash");

            // ... and removes the checkpoints too: only a hash recorded outside the database
            // (the log line of each checkpoint, or an earlier report) still tells.
            try (Connection db = owner(app); Statement st = db.createStatement()) {
                st.execute("set session_replication_role = replica");
                st.execute("delete from audit_checkpoint");
            }
            assertThat(verify(c).get("valid").asBoolean()).as("nothing inside the database contradicts it").isTrue();
            TrentClient.Response expected = c.get("/api/v1/audit/verify?expect=" + before.get("headSeq").asLong() + ":"
                    + before.get("headHash").asText(), ADMIN_KEY, null);
            assertThat(expected.json().get("valid").asBoolean()).isFalse();
            assertThat(expected.json().get("firstBroken").get("reason").asText()).contains("recorded outside");
            String[] cliExpect = cli(app, "--expect", before.get("headSeq").asLong() + ":" + before.get("headHash").asText());
            assertThat(cliExpect[0]).as(cliExpect[1]).isEqualTo("1");

            // ... or signs a checkpoint with a key of their own, announced as an issuer in the
            // database: the signer must chain to the root from outside the database.
            java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
            g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
            java.security.KeyPair mallory = g.generateKeyPair();
            org.bouncycastle.asn1.x500.X500Name name = new org.bouncycastle.asn1.x500.X500Name("CN=Trent Intermediate CA");
            java.security.cert.X509Certificate forged = new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter()
                    .getCertificate(new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(name, java.math.BigInteger.TWO,
                            new java.util.Date(), new java.util.Date(System.currentTimeMillis() + 86_400_000L), name,
                            mallory.getPublic()).build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(
                                    "SHA256withECDSA").build(mallory.getPrivate())));
            Map<String, Object> head = app.jdbc().queryForMap("select seq, hash from audit_chain order by seq desc limit 1");
            long headSeq = (Long) head.get("seq");
            byte[] headHash = (byte[]) head.get("hash");
            long micros = java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH,
                    java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
            java.security.Signature sig = java.security.Signature.getInstance("SHA256withECDSA");
            sig.initSign(mallory.getPrivate());
            sig.update(AuditVerifier.checkpointMessage(headSeq, headHash, micros));
            try (Connection db = owner(app); java.sql.PreparedStatement ps = db.prepareStatement(
                    "insert into issuer (id, subject_dn, certificate_der, not_after, state) values ('mallory', 'x', ?, "
                            + "now() + interval '1 day', 'RETIRED')")) {
                ps.setBytes(1, forged.getEncoded());
                ps.executeUpdate();
            }
            try (Connection db = owner(app); java.sql.PreparedStatement ps = db.prepareStatement(
                    "insert into audit_checkpoint (seq, hash, created_at, issuer_id, signature_algorithm, signature, "
                            + "signer_certificate) values (?, ?, to_timestamp(? / 1000000.0), 'mallory', "
                            + "'1.2.840.10045.4.3.2', ?, ?)")) {
                ps.setLong(1, headSeq);
                ps.setBytes(2, headHash);
                ps.setLong(3, micros);
                ps.setBytes(4, sig.sign());
                ps.setBytes(5, forged.getEncoded());
                ps.executeUpdate();
            }
            JsonNode forgedReport = verify(c);
            assertThat(forgedReport.get("valid").asBoolean()).isFalse();
            assertThat(forgedReport.get("firstBroken").get("reason").asText()).contains("not one of Trent's issuers");
        }
    }

    @Test
    void applicationRoleCannotChangeOrRemoveAuditRowsAndTrentRunsUnderIt() throws Exception {
        try (TrentApp owner = start(dir.resolve("c"))) {
            String url = url(owner);
            owner.jdbc().execute("create role trent_login login password 'login-pw' in role trent_app");
            activity(owner.client());

            try (Connection app = DriverManager.getConnection(url, "trent_login", "login-pw");
                    Statement st = app.createStatement()) {
                for (String sql : List.of("update audit_event set actor = 'x'", "delete from audit_event",
                        "update audit_chain set hash = hash", "delete from audit_chain",
                        "insert into audit_chain (seq, event_id, prev_hash, hash) select seq + 1000, event_id, prev_hash, "
                                + "hash from audit_chain limit 1",
                        "delete from audit_checkpoint", "truncate audit_event")) {
                    Throwable t = catchThrowable(() -> st.execute(sql));
                    assertThat(t).as(sql).isInstanceOf(java.sql.SQLException.class);
                    assertThat(t.getMessage()).as(sql).contains("permission denied");
                }
            }

            // A second instance connected as the application role, Flyway as the owner: it works,
            // and what it records is chained like the rest.
            Map<String, String> s = new LinkedHashMap<>();
            s.put("trent.data-dir", dir.resolve("c2").toString());
            s.put("trent.bootstrap-admin-token", ADMIN_KEY);
            s.put("spring.datasource.url", url);
            s.put("spring.datasource.username", "trent_login");
            s.put("spring.datasource.password", "login-pw");
            s.put("spring.flyway.user", ds(owner).getUsername());
            s.put("spring.flyway.password", ds(owner).getPassword() == null ? "" : ds(owner).getPassword());
            s.put("trent.ca.keystore.path", dir.resolve("c/ca/intermediate.p12").toString());
            s.put("trent.ca.keystore.password-file", dir.resolve("c/ca/intermediate.p12.pass").toString());
            try (TrentApp restricted = TrentApp.start(s)) {
                activity(restricted.client());
                assertThat(restricted.client().postJson("/api/v1/audit/checkpoint", ADMIN_KEY, Map.of()).status())
                        .isEqualTo(200);
                JsonNode report = verify(restricted.client());
                assertThat(report.get("valid").asBoolean()).as(report.toString()).isTrue();
                assertThat(report.get("checkpoints").asLong()).isEqualTo(1);
            }
        }
    }

    @Test
    void failedAuthenticationsBecomeOneBurstEventAndRefusedEnrollmentsAreRecorded() throws Exception {
        try (TrentApp app = start(dir.resolve("d"))) {
            TrentClient c = app.client();
            for (int i = 0; i < 12; i++) {
                assertThat(c.get("/api/v1/certificates", "trent_ak_wrong-key-" + i, null).status()).isEqualTo(401);
            }
            assertThat(app.jdbc().queryForObject("select count(*) from audit_event where action = 'auth.failure-burst'",
                    Integer.class)).as("one event for ten failures within a minute, not twelve").isEqualTo(1);

            String token = c.token(ADMIN_KEY, "refused-1", "device", null);
            TrentClient.Response refused = c.enroll(token, "application/x-pem-file",
                    TestCsrs.rsa(1024, "x").pem().getBytes(StandardCharsets.US_ASCII), null);
            assertThat(refused.status()).isEqualTo(400);
            String details = app.jdbc().queryForObject("select details::text from audit_event where action = "
                    + "'enrollment.refused'", String.class);
            assertThat(details).contains("key-refused").contains("/api/v1/enroll");
            assertThat(details).doesNotContain(token);
            assertThat(app.jdbc().queryForObject("select actor from audit_event where action = 'enrollment.refused'",
                    String.class)).isEqualTo("device:refused-1");
            // Without an accepted credential a refusal is only counted (bursts), never recorded one by one.
            TrentClient.Response anonymous = c.enroll("trent_et_" + "A".repeat(43), "application/x-pem-file",
                    "garbage".getBytes(StandardCharsets.US_ASCII), null);
            assertThat(anonymous.status()).isEqualTo(401);
            assertThat(app.jdbc().queryForObject("select count(*) from audit_event where action = 'enrollment.refused'",
                    Integer.class)).isEqualTo(1);
            assertThat(verify(c).get("valid").asBoolean()).isTrue();
        }
    }
}
