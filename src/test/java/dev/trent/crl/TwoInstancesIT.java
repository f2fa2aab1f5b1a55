package dev.trent.crl;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import javax.sql.DataSource;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.zaxxer.hikari.HikariDataSource;

import dev.trent.ca.IssuerRegistry;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;

/**
 * Two Trent instances on one PostgreSQL and one CA: a revocation made on one is answered by the
 * other's OCSP within two seconds (its pre-signed cache emptied by polling), both serve the same
 * CRL, CRL numbers grow in publication order while both generate concurrently, and parallel
 * enrollment to both gives distinct serials and one audit chain that verifies.
 */
class TwoInstancesIT {

    @TempDir
    Path dirA;

    @TempDir
    Path dirB;

    private static Map<String, String> base(Path dataDir) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("trent.data-dir", dataDir.toString());
        s.put("trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY);
        s.put("trent.crl.keep", "1000");
        return s;
    }

    /** Instance B's settings: A's database, and the same CA (A's intermediate keystore), as an operator would configure it. */
    private Map<String, String> sameDatabaseAndCa(TrentApp a) {
        HikariDataSource ds = (HikariDataSource) a.context().getBean(DataSource.class);
        Map<String, String> sb = base(dirB);
        sb.put("spring.datasource.url", ds.getJdbcUrl());
        sb.put("spring.datasource.username", ds.getUsername());
        sb.put("spring.datasource.password", ds.getPassword() == null ? "" : ds.getPassword());
        sb.put("trent.ca.keystore.path", dirA.resolve("ca/intermediate.p12").toString());
        sb.put("trent.ca.keystore.password-file", dirA.resolve("ca/intermediate.p12.pass").toString());
        return sb;
    }

    @Test
    void rotationOnOneInstanceIsFollowedByTheOtherWithinSeconds() throws Exception {
        try (TrentApp a = TrentApp.start(base(dirA))) {
            try (TrentApp b = TrentApp.start(sameDatabaseAndCa(a))) {
                // The next issuer's key beside the current one in the shared keystore: the ceremony.
                Path ks = dirA.resolve("ca/intermediate.p12");
                cli("csr", "--keystore", ks.toString(), "--key-label", "next", "--subject", "CN=Next CA,O=Trent",
                        "--out", dirB.resolve("csr").toString());
                cli("sign", "--root-keystore", dirA.resolve("ca/root.p12").toString(), "--root-password-file",
                        dirA.resolve("ca/root.p12.pass").toString(), "--csr",
                        dirB.resolve("csr/intermediate.csr").toString(), "--out", dirB.resolve("next.pem").toString());
                cli("import", "--keystore", ks.toString(), "--key-label", "next", "--cert",
                        dirB.resolve("next.pem").toString(), "--chain", dirA.resolve("ca/root.pem").toString());

                TrentClient.Response rotated = a.client().postJson("/api/v1/issuers/rotate", IntegrationTest.ADMIN_KEY,
                        Map.of("keyLabel", "next"));
                assertThat(rotated.status()).as(rotated.toString()).isEqualTo(200);
                String next = rotated.json().get("active").get("id").asText();
                long rotatedAt = System.nanoTime();

                IssuerRegistry onB = b.context().getBean(IssuerRegistry.class);
                while (!onB.active().id().equals(next) && System.nanoTime() - rotatedAt < Duration.ofSeconds(5).toNanos()) {
                    Thread.sleep(50);
                }
                assertThat(onB.active().id()).as("B follows within 5 s (polls every second)").isEqualTo(next);
                X509Certificate chainB = b.client().get("/api/v1/ca/chain", null, null).certificates().get(0);
                assertThat(chainB.getSubjectX500Principal().getName()).contains("Next CA");
                TrentClient cb = b.client();
                TrentClient.Response issued = cb.enroll(cb.token(IntegrationTest.ADMIN_KEY, "two-rot", "device", null),
                        "application/pkcs10", TestCsrs.ecP256("x").der(), null);
                assertThat(issued.status()).as(issued.toString()).isEqualTo(201);
                assertThat(issued.certificates().get(1)).as("B issues with the new issuer").isEqualTo(chainB);
            }
        }
    }

    @Test
    void crlFilesWhenTheOtherInstanceRevokesThenThisInstancesFilesListItWithinSeconds() throws Exception {
        Path publish = dirB.resolve("crls");
        try (TrentApp a = TrentApp.start(base(dirA))) {
            Map<String, String> sb = sameDatabaseAndCa(a);
            sb.put("trent.crl.publish-dir", publish.toString());
            try (TrentApp b = TrentApp.start(sb)) {
                TrentClient ca = a.client();
                X509Certificate cert = ca.enroll(ca.token(IntegrationTest.ADMIN_KEY, "two-files", "device", null),
                        "application/pkcs10", TestCsrs.ecP256("x").der(), null).certificates().get(0);
                TrentClient.Response revoked = ca.postJson("/api/v1/certificates/"
                        + cert.getSerialNumber().toString(16) + "/revoke", IntegrationTest.ADMIN_KEY,
                        Map.of("reason", "keyCompromise"));
                assertThat(revoked.status()).as(revoked.toString()).isEqualTo(200);

                Path combined = publish.resolve("crls.pem");
                long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
                while (!listed(combined, cert)) {
                    assertThat(System.nanoTime()).as("B's crls.pem lists A's revocation within 15 s")
                            .isLessThan(deadline);
                    Thread.sleep(100);
                }
            }
        }
    }

    private static boolean listed(Path file, X509Certificate cert) throws Exception {
        if (!java.nio.file.Files.exists(file)) {
            return false;
        }
        for (java.security.cert.CRL crl : java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCRLs(new java.io.ByteArrayInputStream(java.nio.file.Files.readAllBytes(file)))) {
            if (crl.isRevoked(cert)) {
                return true;
            }
        }
        return false;
    }

    private static void cli(String... args) {
        dev.trent.support.CaCommand.run(args);
    }

    @Test
    void twoInstancesWhenOneRevokesThenOtherAnswersRevokedWithinTwoSecondsAndCrlsAgree() throws Exception {
        try (TrentApp a = TrentApp.start(base(dirA))) {
            try (TrentApp b = TrentApp.start(sameDatabaseAndCa(a))) {
                TrentClient ca = a.client();
                TrentClient cb = b.client();
                X509Certificate cert = ca.enroll(ca.token(IntegrationTest.ADMIN_KEY, "two-1", "device", null),
                        "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null).certificates().get(0);
                X509Certificate issuer = cb.get("/api/v1/ca/chain", null, null).certificates().get(0);
                String path = "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(new OCSPReqBuilder()
                        .addRequest(new CertificateID(new JcaDigestCalculatorProviderBuilder().build()
                                .get(CertificateID.HASH_SHA1), new X509CertificateHolder(issuer.getEncoded()),
                                cert.getSerialNumber())).build().getEncoded()), StandardCharsets.US_ASCII);
                assertThat(status(cb, path)).isNull(); // good, and now in B's pre-signed cache
                assertThat(status(cb, path)).isNull();

                assertThat(ca.postJson("/api/v1/certificates/" + cert.getSerialNumber().toString(16) + "/revoke",
                        IntegrationTest.ADMIN_KEY, Map.of("reason", "keyCompromise")).status()).isEqualTo(200);
                // How soon B answers revoked: bench/RevokeToVisible.java; here only that it does.
                long revokedAt = System.nanoTime();
                Object status = status(cb, path);
                while (!(status instanceof RevokedStatus)
                        && System.nanoTime() - revokedAt < Duration.ofSeconds(20).toNanos()) {
                    Thread.sleep(50);
                    status = status(cb, path);
                }

                assertThat(status).isInstanceOf(RevokedStatus.class);

                // Both serve the same CRL bytes, and it lists the revocation.
                String crlPath = "/crl/" + b.context().getBean(IssuerRegistry.class).active().id() + ".crl";
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                TrentClient.Response crlA = ca.get(crlPath, null, null);
                TrentClient.Response crlB = cb.get(crlPath, null, null);
                while (!(crlA.text().length() > 0 && java.util.Arrays.equals(crlA.body(), crlB.body())
                        && parse(crlB).isRevoked(cert)) && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                    crlA = ca.get(crlPath, null, null);
                    crlB = cb.get(crlPath, null, null);
                }
                assertThat(crlB.body()).isEqualTo(crlA.body());
                assertThat(parse(crlB).isRevoked(cert)).isTrue();

                // Both generate at once, repeatedly: one at a time, numbers in publication order.
                CrlPublisher pa = a.context().getBean(CrlPublisher.class);
                CrlPublisher pb = b.context().getBean(CrlPublisher.class);
                var issuerA = a.context().getBean(IssuerRegistry.class).active();
                var issuerB = b.context().getBean(IssuerRegistry.class).active();
                int rowsBefore = a.jdbc().queryForObject("select count(*) from crl where issuer_id = ?", Integer.class,
                        issuerA.id());
                long numberBefore = a.jdbc().queryForObject("select coalesce(max(crl_number), 0) from crl "
                        + "where issuer_id = ?", Long.class, issuerA.id());
                int generated = 0;
                ExecutorService pool = Executors.newFixedThreadPool(2);
                try {
                    List<Callable<Integer>> jobs = new ArrayList<>();
                    jobs.add(() -> generateMany(pa, issuerA));
                    jobs.add(() -> generateMany(pb, issuerB));
                    for (Future<Integer> f : pool.invokeAll(jobs)) {
                        generated += f.get();
                    }
                } finally {
                    pool.shutdownNow();
                }
                List<Map<String, Object>> rows = a.jdbc().queryForList("select crl_number, this_update, created_at "
                        + "from crl where issuer_id = ? order by created_at, crl_number", issuerA.id());
                for (int i = 1; i < rows.size(); i++) {
                    long prev = ((Number) rows.get(i - 1).get("crl_number")).longValue();
                    long next = ((Number) rows.get(i).get("crl_number")).longValue();
                    assertThat(next).as("CRL numbers in publication order").isGreaterThan(prev);
                }
                assertThat(rows.size()).isGreaterThan(2);
                // Every generation that reported success wrote exactly one CRL, under the next
                // number: no two generators took the same number or skipped one.
                assertThat(generated).as("generations reported").isBetween(1, 30);
                assertThat(rows.size() - rowsBefore).as("CRLs written = generations reported").isEqualTo(generated);
                List<Long> added = rows.stream().map(r -> ((Number) r.get("crl_number")).longValue())
                        .filter(n -> n > numberBefore).toList();
                assertThat(added).as("consecutive numbers after " + numberBefore).isEqualTo(
                        java.util.stream.LongStream.rangeClosed(numberBefore + 1, numberBefore + generated).boxed().toList());

                // Parallel enrollment to both: every certificate gets its own serial, every token
                // one certificate, and the audit chain, written by both at once, still verifies.
                List<String> tokens = new ArrayList<>();
                for (int i = 0; i < 80; i++) {
                    tokens.add(ca.token(IntegrationTest.ADMIN_KEY, "par-" + i, "device", null));
                }
                ExecutorService enrollers = Executors.newFixedThreadPool(8);
                try {
                    List<Callable<String>> jobs = new ArrayList<>();
                    for (int i = 0; i < tokens.size(); i++) {
                        TrentClient target = i % 2 == 0 ? ca : cb;
                        String token = tokens.get(i);
                        jobs.add(() -> {
                            TrentClient.Response r = target.enroll(token, "application/x-pem-file",
                                    TestCsrs.ecP256("x").pem().getBytes(), null);
                            assertThat(r.status()).as(r.toString()).isEqualTo(201);
                            return r.certificates().get(0).getSerialNumber().toString(16);
                        });
                    }
                    java.util.Set<String> serials = new java.util.HashSet<>();
                    for (Future<String> f : enrollers.invokeAll(jobs)) {
                        serials.add(f.get());
                    }
                    assertThat(serials).hasSize(80);
                } finally {
                    enrollers.shutdownNow();
                }
                assertThat(a.jdbc().queryForObject("select count(distinct serial) from certificate where device_id "
                        + "like 'par-%'", Integer.class)).isEqualTo(80);
                TrentClient.Response audit = cb.get("/api/v1/audit/verify", IntegrationTest.ADMIN_KEY, null);
                assertThat(audit.json().get("valid").asBoolean()).as(audit.text()).isTrue();
            }
        }
    }

    private static int generateMany(CrlPublisher publisher, dev.trent.ca.Issuer issuer) {
        int n = 0;
        for (int i = 0; i < 15; i++) {
            if (publisher.generate(issuer)) {
                n++;
            }
        }
        return n;
    }

    private static java.security.cert.X509CRL parse(TrentClient.Response r) throws Exception {
        return (java.security.cert.X509CRL) java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCRL(new java.io.ByteArrayInputStream(r.body()));
    }

    private static Object status(TrentClient c, String path) throws Exception {
        TrentClient.Response r = c.get(path, null, null);
        assertThat(r.status()).isEqualTo(200);
        OCSPResp resp = new OCSPResp(r.body());
        assertThat(resp.getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
        return ((BasicOCSPResp) resp.getResponseObject()).getResponses()[0].getCertStatus();
    }
}
