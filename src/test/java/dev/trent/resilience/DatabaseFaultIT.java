package dev.trent.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.ca.IssuerRegistry;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;

/**
 * Faults done for real on Trent's embedded PostgreSQL. The JVM killed with {@code kill -9} under
 * enrollment load (Trent runs as a child JVM from the packaged jar): its postmaster does not
 * outlive it, the next start on the same data directory needs no human, every certificate a
 * client received is known, the token of every failed request still gets its certificate, and
 * the audit chain verifies. The postmaster killed with {@code kill -9} under load (and kept from
 * coming back for a while by holding its port): requests answer 503 problem+json with
 * Retry-After, OCSP a held pre-signed answer or tryLater, CRLs the copy in memory, readiness 503;
 * Trent restarts PostgreSQL and everything recovers. PostgreSQL frozen (SIGSTOP, a hung server):
 * requests answer 503 after the configured timeouts instead of hanging. Ctrl-C (SIGINT to the
 * child JVM's process group): Trent stops, its PostgreSQL is stopped once and not restarted, and
 * none of its processes is left. Stale {@code postmaster.pid} files at start.
 *
 * <p>Runs once (not in the pkcs11 pass): the signer plays no part in these faults.
 */
class DatabaseFaultIT {

    private static final String ADMIN = IntegrationTest.ADMIN_KEY;
    private static final Duration GENEROUS = Duration.ofSeconds(120);

    @TempDir
    Path tmp;

    @BeforeEach
    void embeddedOnly() {
        Assumptions.assumeTrue(System.getenv("SPRING_DATASOURCE_URL") == null,
                "SPRING_DATASOURCE_URL is set: these tests fault Trent's own embedded PostgreSQL");
        Assumptions.assumeFalse(IntegrationTest.pkcs11Run(), "the signer plays no part: runs in the keystore pass");
        Assumptions.assumeTrue(System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux"),
                "process faults are exercised on Linux");
    }

    /** An enrollment a client sent: its token and key, and what it got back (null: no certificate). */
    record Attempt(String token, TestCsrs.Csr csr, X509Certificate certificate, String failure) {
    }

    @Test
    void jvmKilledUnderLoadThenNextStartNeedsNoHumanAndNothingIsLost() throws Exception {
        Path data = tmp.resolve("data");
        Path pidFile = data.resolve("postgres/postmaster.pid");
        List<Attempt> attempts;
        long postmaster;
        try (ChildTrent first = ChildTrent.start(data, tmp.resolve("first.log"))) {
            postmaster = pidOf(pidFile);
            attempts = enrollThenKill(first, "crash-", 80, 4, 15);
        }
        assertThat(issued(attempts)).isGreaterThanOrEqualTo(15);
        if (ChildTrent.SETPRIV) {
            await("the postmaster (pid " + postmaster + ") ends with its JVM", () -> !alive(postmaster));
        }

        try (ChildTrent second = ChildTrent.start(data, tmp.resolve("second.log"))) {
            assertThat(alive(postmaster)).as("no postmaster of the killed run is left").isFalse();
            TrentClient client = second.client();
            for (Attempt a : attempts) {
                if (a.certificate() != null) {
                    TrentClient.Response r = client.get("/api/v1/certificates/"
                            + a.certificate().getSerialNumber().toString(16), ADMIN, "application/pkix-cert");
                    assertThat(r.status()).as("certificate %s, received before the kill, is known",
                            a.certificate().getSerialNumber().toString(16)).isEqualTo(200);
                    assertThat(r.certificates().get(0)).isEqualTo(a.certificate());
                }
            }
            int retried = 0;
            for (Attempt a : attempts) {
                if (a.certificate() == null) {
                    // The same key again: 201 if the token was unused, 200 with the certificate
                    // committed just before the kill if only the response was lost.
                    TrentClient.Response r = client.enroll(a.token(), "application/pkcs10", a.csr().der(), null);
                    assertThat(r.status()).as("token of a failed request (%s): %s", a.failure(), r).isIn(200, 201);
                    assertThat(r.certificates().get(0).getPublicKey()).isEqualTo(a.csr().keys().getPublic());
                    retried++;
                }
            }
            TrentClient.Response audit = client.get("/api/v1/audit/verify", ADMIN, null);
            assertThat(audit.status()).as(audit.toString()).isEqualTo(200);
            assertThat(audit.json().get("valid").asBoolean()).as(audit.text()).isTrue();
            System.out.printf("DatabaseFaultIT: %d certificates received before kill -9, %d failed requests retried%n",
                    issued(attempts), retried);
            long restarted = pidOf(pidFile);
            second.stop();
            await("a stopped Trent stops its PostgreSQL", () -> !alive(restarted) && !Files.exists(pidFile));
        }
    }

    @Test
    void ctrlCToTheProcessGroupThenTrentStopsWithoutRestartingPostgresAndLeavesNoPostmaster() throws Exception {
        Assumptions.assumeTrue(ChildTrent.SETSID, "setsid (util-linux) is needed to give the child JVM a process "
                + "group of its own, as a shell does");
        Path data = tmp.resolve("data");
        Path pidFile = data.resolve("postgres/postmaster.pid");
        Path log = tmp.resolve("trent.log");
        try (ChildTrent child = ChildTrent.start(data, log, null, List.of(), true)) {
            assertThat(enroll(child.client(), "ctrl-c")).isNotNull();
            long postmaster = pidOf(pidFile);
            List<ProcessHandle> cluster = new ArrayList<>();
            cluster.add(ProcessHandle.of(postmaster).orElseThrow());
            ProcessHandle.of(postmaster).orElseThrow().descendants().forEach(cluster::add);
            // Ctrl-C in a terminal: SIGINT to every process of the foreground process group.
            assertThat(new ProcessBuilder("kill", "-s", "INT", "--", "-" + child.pid()).inheritIO().start().waitFor())
                    .isZero();
            boolean stopped = child.process().waitFor(120, TimeUnit.SECONDS);
            assertThat(stopped).as("Trent stops on Ctrl-C:%n%s%n%s", child.logTail(),
                    stopped ? "" : threadDump(child.pid())).isTrue();
            // 130 = 128 + SIGINT: the JVM ran its shutdown hooks (Spring's close) and exited for the signal.
            assertThat(child.process().exitValue()).as(child.logTail()).isEqualTo(130);
            await("PostgreSQL (every process of it) stopped with Trent",
                    () -> cluster.stream().noneMatch(ProcessHandle::isAlive));
            assertThat(pidFile).as("a clean shutdown removes the lock file").doesNotExist();
            String text = Files.readString(log);
            assertThat(text.split("Embedded PostgreSQL started as pid", -1)).as("PostgreSQL started once:%n%s", text)
                    .hasSize(2);
            assertThat(text).doesNotContain("restarting it on").doesNotContain("Embedded PostgreSQL restarted");
            // PostgreSQL stopped after Trent closed its pools, not with the signal. (Backends of the connections just closed may still be exiting when the fast shutdown
            // comes, on a loaded machine: their "terminating connection" lines prove nothing.)
            int poolsClosed = text.indexOf("trent-embedded - Shutdown completed");
            int fast = text.indexOf("received fast shutdown request");
            assertThat(poolsClosed).as("Trent closed its pool:%n%s", text).isNotNegative();
            assertThat(fast).as("PostgreSQL got the SIGINT meant for the JVM, before Trent closed its pool:%n%s", text)
                    .isGreaterThan(poolsClosed);
        }
        // And the next start finds the directory as a clean stop leaves it.
        try (ChildTrent again = ChildTrent.start(data, tmp.resolve("again.log"))) {
            assertThat(Files.readString(tmp.resolve("again.log"))).doesNotContain("left running");
        }
    }

    /** The threads of a JVM that did not stop (jcmd), for the failure's message. */
    private static String threadDump(long pid) {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(pid), "Thread.print").redirectErrorStream(true).start();
            String out = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            jcmd.waitFor(30, TimeUnit.SECONDS);
            return "threads of pid " + pid + ":\n" + out;
        } catch (IOException | InterruptedException e) {
            return "(no thread dump: " + e + ")";
        }
    }

    @Test
    void postmasterKilledOrHungUnderLoadThenAnswers503AndRecovers() throws Exception {
        Map<String, String> settings = new LinkedHashMap<>();
        settings.put("trent.data-dir", tmp.resolve("data").toString());
        settings.put("trent.bootstrap-admin-token", ADMIN);
        settings.put("trent.database.connect-timeout", "2s");
        settings.put("trent.database.statement-timeout", "3s");
        settings.put("trent.database.embedded-restart-delay", "1s");
        Path pidFile = tmp.resolve("data/postgres/postmaster.pid");
        try (TrentApp app = TrentApp.start(settings)) {
            TrentClient client = app.client().withTimeout(Duration.ofSeconds(30));
            X509Certificate asked = enroll(client, "fault-asked");
            X509Certificate neverAsked = enroll(client, "fault-never-asked");
            X509Certificate issuer = client.get("/api/v1/ca/chain", null, null).certificates().get(0);
            String askedPath = ocspPath(issuer, asked.getSerialNumber());
            String neverAskedPath = ocspPath(issuer, neverAsked.getSerialNumber());
            byte[] preSigned = client.get(askedPath, null, null).body();
            assertThat(new OCSPResp(preSigned).getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
            String crlPath = "/crl/" + app.context().getBean(IssuerRegistry.class).active().id() + ".crl";
            TrentClient.Response crl = client.get(crlPath, null, null);
            assertThat(crl.status()).isEqualTo(200);

            Load load = Load.start(client, 3, 150);
            try {
                await("enrollment load runs", () -> load.issued() >= 3);
                long killed = pidOf(pidFile);
                int port = portOf(pidFile);
                try (PortHolder held = PortHolder.killAndHold(killed, port, pidFile)) {
                    assertThat(alive(killed)).isFalse();
                    // Every answer from the kill on is checked, not only the one that ends a wait.
                    for (int i = 0; i < 3; i++) {
                        TrentClient.Response ready = client.get("/actuator/health/readiness", null, null);
                        assertThat(ready.status()).as("readiness while PostgreSQL is down: %s", ready).isEqualTo(503);
                        assertUnavailable(client.get("/api/v1/certificates/" + asked.getSerialNumber().toString(16),
                                ADMIN, null));
                    }
                    TrentClient.Response revoke = client.postJson("/api/v1/certificates/"
                            + asked.getSerialNumber().toString(16) + "/revoke", ADMIN, Map.of("reason", "superseded"));
                    assertUnavailable(revoke);
                    TrentClient.Response enroll = client.enroll("trent_et_unknown-token-while-down",
                            "application/pkcs10", TestCsrs.ecP256("x").der(), null);
                    assertUnavailable(enroll);

                    TrentClient.Response held1 = client.get(askedPath, null, null);
                    assertThat(held1.status()).isEqualTo(200);
                    assertThat(held1.contentType()).isEqualTo("application/ocsp-response");
                    assertThat(new OCSPResp(held1.body()).getStatus()).as("the held pre-signed answer")
                            .isEqualTo(OCSPResp.SUCCESSFUL);
                    TrentClient.Response never = client.get(neverAskedPath, null, null);
                    assertThat(never.status()).as(never.toString()).isEqualTo(200);
                    assertThat(never.contentType()).isEqualTo("application/ocsp-response");
                    assertThat(ocspStatus(never)).as("OCSP for a serial never asked: tryLater")
                            .isEqualTo(OCSPResp.TRY_LATER);
                    TrentClient.Response crlDown = client.get(crlPath, null, null);
                    assertThat(crlDown.status()).as(crlDown.toString()).isEqualTo(200);
                    assertThat(crlDown.body()).as("the CRL in memory").isEqualTo(crl.body());
                    await("the load meets the outage", () -> load.unavailable() >= 1);
                }
                await("Trent restarts PostgreSQL and readiness is UP again", () -> {
                    TrentClient.Response r = client.get("/actuator/health/readiness", null, null);
                    assertThat(r.status()).as("readiness while PostgreSQL restarts: %s", r).isIn(200, 503);
                    return r.status() == 200;
                });
                assertThat(pidOf(pidFile)).isNotEqualTo(killed);
                int before = load.issued();
                await("enrollment succeeds again", () -> load.issued() > before);

                // A hung server: every process of the cluster stopped (SIGSTOP), connections open.
                long postmaster = pidOf(pidFile);
                List<ProcessHandle> cluster = new ArrayList<>();
                cluster.add(ProcessHandle.of(postmaster).orElseThrow());
                ProcessHandle.of(postmaster).orElseThrow().descendants().forEach(cluster::add);
                signal("STOP", cluster);
                // A backend forked between the listing and the signal would still answer (a pooled
                // connection's readiness check, say): list again until every process is stopped.
                for (int i = 0; i < 3; i++) {
                    List<ProcessHandle> more = ProcessHandle.of(postmaster).orElseThrow().descendants()
                            .filter(h -> !cluster.contains(h)).toList();
                    signal("STOP", more);
                    cluster.addAll(more);
                }
                try {
                    // Configured: 2 s to connect, 3 s per statement, so the driver gives up after 5 s;
                    // the 20 s bound fails the old behaviour (a 30 s wait for a connection, then 500).
                    TrentClient.Response hung = client.withTimeout(Duration.ofSeconds(20)).get("/api/v1/certificates/"
                            + asked.getSerialNumber().toString(16), ADMIN, null);
                    assertUnavailable(hung);
                    TrentClient.Response hungReady = client.get("/actuator/health/readiness", null, null);
                    assertThat(hungReady.status()).as("readiness while PostgreSQL hangs: %s", hungReady)
                            .isEqualTo(503);
                } finally {
                    signal("CONT", cluster);
                }
                await("readiness is UP once PostgreSQL runs again", () -> {
                    TrentClient.Response r = client.get("/actuator/health/readiness", null, null);
                    assertThat(r.status()).as("readiness while PostgreSQL resumes: %s", r).isIn(200, 503);
                    return r.status() == 200;
                });
                int afterHang = load.issued();
                await("enrollment succeeds after the hang", () -> load.issued() > afterHang);
            } finally {
                load.stop();
            }
            assertThat(load.unexpected()).as("responses other than 200, 201 or 503 problem+json with Retry-After")
                    .isEmpty();
            List<X509Certificate> received = new ArrayList<>();
            load.issued.forEach(a -> received.add(a.certificate()));
            for (Attempt a : load.failed()) {
                TrentClient.Response r = client.enroll(a.token(), "application/pkcs10", a.csr().der(), null);
                assertThat(r.status()).as("the token of a request answered 503: %s", r).isIn(200, 201);
                assertThat(r.certificates().get(0).getPublicKey()).isEqualTo(a.csr().keys().getPublic());
                received.add(r.certificates().get(0));
            }
            // Every certificate a client received, before, during and after the faults: stored
            // byte for byte, and signed by the issuer.
            for (X509Certificate c : received) {
                TrentClient.Response r = client.get("/api/v1/certificates/" + c.getSerialNumber().toString(16), ADMIN,
                        "application/pkix-cert");
                assertThat(r.status()).as("certificate %s received under load is known: %s",
                        c.getSerialNumber().toString(16), r).isEqualTo(200);
                assertThat(r.certificates().get(0)).isEqualTo(c);
                c.verify(issuer.getPublicKey());
            }
            System.out.printf("DatabaseFaultIT: %d certificates received under load, %d requests answered 503%n",
                    load.issued(), load.unavailable());
            TrentClient.Response audit = client.get("/api/v1/audit/verify", ADMIN, null);
            assertThat(audit.json().get("valid").asBoolean()).as(audit.text()).isTrue();
        }
    }

    @Test
    void leftoverPostmasterWhenTrentStartsThenStoppedByFastShutdownAndAStalePidFileHandled() throws Exception {
        Path data = tmp.resolve("data");
        Path cluster = data.resolve("postgres");
        Map<String, String> settings = Map.of("trent.data-dir", data.toString(), "trent.bootstrap-admin-token", ADMIN);
        X509Certificate before;
        try (TrentApp app = TrentApp.start(settings)) {
            before = enroll(app.client(), "leftover-1");
        }
        // A PostgreSQL on the data directory that no Trent owns, as a crashed run leaves it.
        Path postgres;
        try (Stream<Path> dirs = Files.list(Path.of(System.getProperty("java.io.tmpdir"), "trent-postgres-"
                + System.getProperty("user.name")))) {
            postgres = dirs.map(d -> d.resolve("bin/postgres")).filter(Files::isExecutable).findFirst().orElseThrow();
        }
        List<String> command = new ArrayList<>();
        if (io.zonky.test.db.postgres.util.LinuxUtils.isUnshareAvailable()) {
            command.addAll(List.of("unshare", "-U"));
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        command.addAll(List.of(postgres.toString(), "-D", cluster.toString(), "-p", Integer.toString(port), "-c",
                "listen_addresses=localhost", "-c", "unix_socket_directories="));
        Process orphan = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("orphan.log").toFile()).start();
        await("the leftover PostgreSQL is ready", () -> {
            try {
                return Files.readString(cluster.resolve("postmaster.pid")).contains("ready");
            } catch (IOException e) {
                return false;
            }
        });
        assertThat(pidOf(cluster.resolve("postmaster.pid"))).isEqualTo(orphan.pid());

        try (TrentApp app = TrentApp.start(settings)) {
            assertThat(orphan.waitFor(60, TimeUnit.SECONDS)).as("the leftover is stopped").isTrue();
            assertThat(orphan.exitValue()).as("by a fast shutdown (SIGINT), which exits 0").isZero();
            assertThat(pidOf(cluster.resolve("postmaster.pid"))).isNotEqualTo(orphan.pid());
            assertThat(app.client().get("/api/v1/certificates/" + before.getSerialNumber().toString(16), ADMIN, null)
                    .status()).isEqualTo(200);
        }

        // A postmaster.pid naming a live process that is not PostgreSQL (its pid reused after a power cut).
        Process other = new ProcessBuilder("sleep", "300").start();
        try {
            Files.writeString(cluster.resolve("postmaster.pid"), other.pid() + "\n" + cluster + "\n1700000000\n"
                    + port + "\n\nlocalhost\n  1234567     1\nready   \n");
            try (TrentApp app = TrentApp.start(settings)) {
                assertThat(enroll(app.client(), "leftover-2")).isNotNull();
            }
            assertThat(other.isAlive()).as("the other program is left alone").isTrue();
        } finally {
            other.destroyForcibly();
        }

        // A postmaster.pid whose process is gone (a power cut): left to PostgreSQL, which checks
        // the shared memory it names and starts over it.
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(cluster.resolve("postmaster.pid"), gone.pid() + "\n" + cluster + "\n1700000000\n"
                + port + "\n\nlocalhost\n  1234567     1\nready   \n");
        try (TrentApp app = TrentApp.start(settings)) {
            assertThat(enroll(app.client(), "leftover-3")).isNotNull();
        }
    }

    static void assertUnavailable(TrentClient.Response r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(503);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.header("Retry-After")).as(r.toString()).isNotNull();
        assertThat(r.json().get("type").asText()).isEqualTo("https://trent.dev/problems/database-unavailable");
    }

    static X509Certificate enroll(TrentClient client, String device) {
        TrentClient.Response r = client.enroll(client.token(ADMIN, device, "device", null), "application/pkcs10",
                TestCsrs.ecP256("x").der(), null);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.certificates().get(0);
    }

    private static String ocspPath(X509Certificate issuer, BigInteger serial) throws Exception {
        byte[] req = new OCSPReqBuilder().addRequest(new CertificateID(new JcaDigestCalculatorProviderBuilder().build()
                .get(CertificateID.HASH_SHA1), new X509CertificateHolder(issuer.getEncoded()), serial)).build()
                .getEncoded();
        return "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(req), StandardCharsets.US_ASCII);
    }

    private static int ocspStatus(TrentClient.Response r) {
        try {
            return new OCSPResp(r.body()).getStatus();
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * {@code threads} clients enroll with {@code tokens} fresh tokens (device ids {@code prefix}N,
     * a new key each) until {@code issuedBeforeKill} certificates were received, then the child is
     * killed with {@code kill -9} mid-load; every attempt, received or failed, is returned.
     */
    static List<Attempt> enrollThenKill(ChildTrent child, String prefix, int tokens, int threads, int issuedBeforeKill)
            throws Exception {
        TrentClient client = child.client();
        ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < tokens; i++) {
            queue.add(client.token(ADMIN, prefix + i, "device", null));
        }
        List<Attempt> attempts = new CopyOnWriteArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService load = Executors.newFixedThreadPool(threads);
        for (int t = 0; t < threads; t++) {
            load.submit(() -> {
                String token;
                while (!stop.get() && (token = queue.poll()) != null) {
                    TestCsrs.Csr csr = TestCsrs.ecP256("x");
                    try {
                        TrentClient.Response r = client.enroll(token, "application/pkcs10", csr.der(), null);
                        attempts.add(r.status() == 201 ? new Attempt(token, csr, r.certificates().get(0), null)
                                : new Attempt(token, csr, null, r.toString()));
                    } catch (RuntimeException e) {
                        attempts.add(new Attempt(token, csr, null, e.toString()));
                    }
                }
            });
        }
        await("some enrollments succeed before the kill",
                () -> issued(attempts) >= issuedBeforeKill || queue.isEmpty());
        child.kill();
        stop.set(true);
        load.shutdown();
        assertThat(load.awaitTermination(60, TimeUnit.SECONDS)).isTrue();
        return attempts;
    }

    static int issued(List<Attempt> attempts) {
        return (int) attempts.stream().filter(a -> a.certificate() != null).count();
    }

    static long pidOf(Path pidFile) throws IOException {
        return Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
    }

    private static int portOf(Path pidFile) throws IOException {
        return Integer.parseInt(Files.readAllLines(pidFile).get(3).strip());
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static void signal(String signal, List<ProcessHandle> processes) throws Exception {
        for (ProcessHandle p : processes) {
            new ProcessBuilder("kill", "-s", signal, Long.toString(p.pid())).inheritIO().start().waitFor();
        }
    }

    /** Polls until true, for at most {@link #GENEROUS}: a bound on a hang, not a timing target. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + GENEROUS.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("waiting until: " + what).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    /** Enrollment threads with fresh tokens, recording every response. */
    static final class Load {
        private final AtomicBoolean stop = new AtomicBoolean();
        private final ExecutorService threads;
        private final List<Attempt> issued = new CopyOnWriteArrayList<>();
        private final List<Attempt> failed = new CopyOnWriteArrayList<>();
        private final List<String> unexpected = new CopyOnWriteArrayList<>();

        private Load(int threads) {
            this.threads = Executors.newFixedThreadPool(threads);
        }

        static Load start(TrentClient client, int threads, int tokens) {
            ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>();
            for (int i = 0; i < tokens; i++) {
                queue.add(client.token(ADMIN, "load-" + i, "device", null));
            }
            Load load = new Load(threads);
            for (int t = 0; t < threads; t++) {
                load.threads.submit(() -> {
                    String token;
                    while (!load.stop.get() && (token = queue.poll()) != null) {
                        TestCsrs.Csr csr = TestCsrs.ecP256("x");
                        TrentClient.Response r;
                        try {
                            r = client.enroll(token, "application/pkcs10", csr.der(), null);
                        } catch (RuntimeException e) {
                            load.unexpected.add("no response: " + e);
                            continue;
                        }
                        if (r.status() == 201) {
                            load.issued.add(new Attempt(token, csr, r.certificates().get(0), null));
                        } else if (r.status() == 503 && r.contentType().startsWith("application/problem+json")
                                && r.header("Retry-After") != null) {
                            load.failed.add(new Attempt(token, csr, null, r.toString()));
                            sleepQuietly(200);
                        } else {
                            load.unexpected.add(r.toString());
                        }
                    }
                });
            }
            return load;
        }

        int issued() {
            return issued.size();
        }

        int unavailable() {
            return failed.size();
        }

        List<Attempt> failed() {
            return failed;
        }

        List<String> unexpected() {
            return unexpected;
        }

        void stop() throws InterruptedException {
            stop.set(true);
            threads.shutdown();
            assertThat(threads.awaitTermination(120, TimeUnit.SECONDS)).isTrue();
        }

        private static void sleepQuietly(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Kills the postmaster and takes its port (both loopback addresses) before the supervisor
     * restarts it, so the outage lasts until {@link #close()}; retried if PostgreSQL won the race.
     */
    static final class PortHolder implements AutoCloseable {
        private final List<ServerSocket> sockets;

        private PortHolder(List<ServerSocket> sockets) {
            this.sockets = sockets;
        }

        static PortHolder killAndHold(long pid, int port, Path pidFile) throws Exception {
            long current = pid;
            for (int attempt = 0; attempt < 20; attempt++) {
                ProcessHandle h = ProcessHandle.of(current).orElseThrow();
                new ProcessBuilder("kill", "-9", Long.toString(current)).inheritIO().start().waitFor();
                h.onExit().get(30, TimeUnit.SECONDS);
                Optional<List<ServerSocket>> taken = take(port);
                if (taken.isPresent()) {
                    return new PortHolder(taken.get());
                }
                long previous = current;
                await("PostgreSQL is back (it won the race for its port)", () -> {
                    try {
                        return Files.exists(pidFile) && pidOf(pidFile) != previous && alive(pidOf(pidFile));
                    } catch (IOException | RuntimeException e) {
                        return false;
                    }
                });
                current = pidOf(pidFile);
            }
            throw new AssertionError("could not hold PostgreSQL's port " + port);
        }

        private static Optional<List<ServerSocket>> take(int port) {
            List<ServerSocket> taken = new ArrayList<>();
            for (String address : List.of("127.0.0.1", "::1")) {
                try {
                    ServerSocket s = new ServerSocket();
                    taken.add(s);
                    s.bind(new InetSocketAddress(InetAddress.getByName(address), port));
                } catch (java.net.BindException e) {
                    if (String.valueOf(e.getMessage()).contains("in use")) {
                        taken.forEach(DatabaseFaultIT::closeQuietly);
                        return Optional.empty();
                    }
                    // this loopback address does not exist here (no IPv6): PostgreSQL cannot use it either
                } catch (IOException e) {
                    taken.forEach(DatabaseFaultIT::closeQuietly);
                    return Optional.empty();
                }
            }
            return Optional.of(taken);
        }

        @Override
        public void close() {
            sockets.forEach(DatabaseFaultIT::closeQuietly);
        }
    }

    private static void closeQuietly(ServerSocket s) {
        try {
            s.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Trent from the packaged jar in a JVM of its own, as an operator runs it. */
    static final class ChildTrent implements AutoCloseable {
        static final boolean SETPRIV = Stream.of(System.getenv("PATH").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "setpriv")));

        private final Process process;
        private final int port;
        private final Path log;

        private ChildTrent(Process process, int port, Path log) {
            this.process = process;
            this.port = port;
            this.log = log;
        }

        static final boolean SETSID = Stream.of(System.getenv("PATH").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "setsid")));

        /** GNU env can reset SIGINT to its default for the command it runs (coreutils 8.31+). */
        static final boolean DEFAULT_SIGINT = defaultSigintAvailable();

        private static boolean defaultSigintAvailable() {
            try {
                Process p = new ProcessBuilder("env", "--default-signal=INT", "true").redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
            } catch (IOException | InterruptedException e) {
                return false;
            }
        }

        static ChildTrent start(Path data, Path log) throws Exception {
            return start(data, log, null, List.of());
        }

        static ChildTrent start(Path data, Path log, Path journal, List<String> settings) throws Exception {
            return start(data, log, journal, settings, false);
        }

        /**
         * With {@code journal}: the test classpath instead of the jar, and the
         * {@link dev.trent.support.SignatureJournal} writing every certificate signature to it.
         */
        static ChildTrent start(Path data, Path log, Path journal, List<String> settings, boolean ownProcessGroup)
                throws Exception {
            List<String> launch;
            if (journal == null) {
                Path jar;
                try (Stream<Path> files = Files.list(Path.of("target"))) {
                    jar = files.filter(p -> p.getFileName().toString().matches("trent-[0-9].*\\.jar")
                            && !p.getFileName().toString().contains("sources")).findFirst()
                            .orElseThrow(() -> new IllegalStateException("no target/trent-*.jar: run ./mvnw verify"))
                            .toAbsolutePath();
                }
                launch = List.of("-jar", jar.toString());
            } else {
                String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
                launch = List.of("-Dtrent.test.signature-journal=" + journal.toAbsolutePath(), "-cp", classpath,
                        "dev.trent.TrentApplication", "--spring.main.sources=dev.trent.support.SignatureJournal");
            }
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            List<String> command = new ArrayList<>();
            if (ownProcessGroup) {
                if (DEFAULT_SIGINT) {
                    // A job a shell starts in the foreground takes Ctrl-C; one that this test runs in
                    // (Maven started with '&' by a non-interactive shell) ignores SIGINT, and a JVM
                    // that inherits SIGINT ignored never installs its handler for it.
                    command.addAll(List.of("env", "--default-signal=INT"));
                }
                // As a shell starts a job: the JVM leads a process group of its own (setsid execs
                // it, so the pid stays the JVM's), which a signal to the group reaches.
                command.add("setsid");
            }
            command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
                    "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
            command.addAll(launch);
            command.addAll(settings);
            command.addAll(List.of("--server.port=" + port, "--trent.tls.port=0", "--trent.data-dir=" + data,
                    "--trent.bootstrap-admin-token=" + ADMIN, "--trent.database.connect-timeout=2s"));
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().keySet().removeIf(k -> k.startsWith("TRENT_") || k.startsWith("SPRING_"));
            ChildTrent child = new ChildTrent(pb.start(), port, log);
            TrentClient client = child.client();
            long deadline = System.nanoTime() + GENEROUS.toNanos();
            while (true) {
                assertThat(child.process.isAlive()).as("Trent exited while starting:%n%s", child.logTail()).isTrue();
                assertThat(System.nanoTime()).as("Trent ready within %s:%n%s", GENEROUS, child.logTail())
                        .isLessThan(deadline);
                try {
                    if (client.get("/actuator/health/readiness", null, null).status() == 200) {
                        return child;
                    }
                } catch (RuntimeException notListening) {
                    // not yet
                }
                Thread.sleep(250);
            }
        }

        TrentClient client() {
            return new TrentClient(port).withTimeout(Duration.ofSeconds(60));
        }

        /** kill -9. */
        void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(60, TimeUnit.SECONDS);
        }

        long pid() {
            return process.pid();
        }

        Process process() {
            return process;
        }

        /** SIGTERM, Spring's graceful shutdown. */
        void stop() throws InterruptedException {
            process.destroy();
            assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("Trent stops on SIGTERM").isTrue();
        }

        String logTail() {
            try {
                List<String> lines = Files.readAllLines(log);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }

        /**
         * kill -9 if still running, then waits (30 s at most) for its embedded PostgreSQL, which
         * dies with the JVM but a moment later: until its processes are gone they write to the
         * data directory, which the test's temporary directory cleanup would then fail to delete.
         */
        @Override
        public void close() throws InterruptedException {
            List<ProcessHandle> tree = process.descendants().toList(); // before they are reparented
            if (process.isAlive()) {
                kill();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            for (ProcessHandle p : tree) {
                try {
                    p.onExit().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    // gone already, or left to the next test's start (which stops a leftover postmaster)
                }
            }
        }
    }
}
