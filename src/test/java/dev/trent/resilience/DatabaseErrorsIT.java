package dev.trent.resilience;

import static dev.trent.resilience.DatabaseFaultIT.enroll;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Base64;
import java.util.Map;

import javax.sql.DataSource;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.trent.support.IntegrationTest;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;

/**
 * Failures of the database that are not an outage: a statement canceled by the statement
 * timeout (PostgreSQL answers, the statement was slow: here it waits on a lock the test holds)
 * is a 503 database-timeout without Retry-After, OCSP's tryLater for that request, and neither
 * readiness nor anything else is taken down; a statement that fails outright (here: its table
 * renamed away) leaves OCSP answering in OCSP, internalError (RFC 6960 2.3), for GET and POST.
 *
 * <p>Runs once (not in the pkcs11 pass): the signer plays no part.
 */
@ExtendWith(OutputCaptureExtension.class)
class DatabaseErrorsIT {

    private static final String ADMIN = IntegrationTest.ADMIN_KEY;

    @TempDir
    Path tmp;

    @BeforeEach
    void once() {
        Assumptions.assumeFalse(IntegrationTest.pkcs11Run(), "the signer plays no part: runs in the keystore pass");
    }

    private TrentApp start() {
        return TrentApp.start(Map.of("trent.data-dir", tmp.resolve("data").toString(), "trent.bootstrap-admin-token",
                ADMIN, "trent.database.statement-timeout", "1s"));
    }

    @Test
    void statementWhenItRunsPastTheStatementTimeoutThen503DatabaseTimeoutAndReadinessStaysUp(CapturedOutput output)
            throws Exception {
        try (TrentApp app = start()) {
            TrentClient client = app.client();
            X509Certificate known = enroll(client, "timeout-known");
            X509Certificate neverAsked = enroll(client, "timeout-never-asked");
            X509Certificate issuer = client.get("/api/v1/ca/chain", null, null).certificates().get(0);
            String ocsp = ocspPath(issuer, neverAsked.getSerialNumber());
            try (Connection lock = app.context().getBean(DataSource.class).getConnection()) {
                lock.setAutoCommit(false);
                try (Statement st = lock.createStatement()) {
                    st.execute("LOCK TABLE certificate IN ACCESS EXCLUSIVE MODE");
                }
                TrentClient.Response slow = client.get("/api/v1/certificates/" + known.getSerialNumber().toString(16),
                        ADMIN, null);
                assertThat(slow.status()).as(slow.toString()).isEqualTo(503);
                assertThat(slow.contentType()).startsWith("application/problem+json");
                assertThat(slow.json().get("type").asText()).isEqualTo("https://trent.dev/problems/database-timeout");
                assertThat(slow.header("Retry-After")).as("no promise that waiting helps").isNull();

                TrentClient.Response tryLater = client.get(ocsp, null, null);
                assertThat(tryLater.status()).isEqualTo(200);
                assertThat(tryLater.contentType()).isEqualTo("application/ocsp-response");
                assertThat(new OCSPResp(tryLater.body()).getStatus()).isEqualTo(OCSPResp.TRY_LATER);

                TrentClient.Response ready = client.get("/actuator/health/readiness", null, null);
                assertThat(ready.status()).as("a slow statement is not an outage: %s", ready).isEqualTo(200);
                lock.rollback();
            }
            TrentClient.Response live = client.get(ocsp, null, null);
            assertThat(new OCSPResp(live.body()).getStatus()).as("signed live again").isEqualTo(OCSPResp.SUCCESSFUL);
            assertThat(client.get("/api/v1/certificates/" + known.getSerialNumber().toString(16), ADMIN, null)
                    .status()).isEqualTo(200);
            assertThat(output.getAll()).contains("Database statement canceled by the statement timeout")
                    .doesNotContain("Database unavailable (");
        }
    }

    @Test
    void ocspWhenTheLookupFailsThenInternalErrorInOcspForGetAndPost() throws Exception {
        try (TrentApp app = start()) {
            TrentClient client = app.client();
            X509Certificate cert = enroll(client, "internal-error");
            X509Certificate issuer = client.get("/api/v1/ca/chain", null, null).certificates().get(0);
            byte[] request = ocspRequest(issuer, cert.getSerialNumber());
            app.jdbc().execute("ALTER TABLE certificate RENAME TO certificate_hidden_by_test");
            try {
                TrentClient.Response get = client.get("/ocsp/" + URLEncoder.encode(Base64.getEncoder()
                        .encodeToString(request), StandardCharsets.US_ASCII), null, null);
                TrentClient.Response post = client.send("POST", "/ocsp", Map.of("Content-Type",
                        "application/ocsp-request"), request);
                for (TrentClient.Response r : new TrentClient.Response[] {get, post}) {
                    assertThat(r.status()).as(r.toString()).isEqualTo(200); // RFC 6960 A.1: the status is in the body
                    assertThat(r.contentType()).isEqualTo("application/ocsp-response");
                    assertThat(new OCSPResp(r.body()).getStatus()).isEqualTo(OCSPResp.INTERNAL_ERROR);
                }
                TrentClient.Response api = client.get("/api/v1/certificates/" + cert.getSerialNumber().toString(16),
                        ADMIN, null);
                assertThat(api.status()).as("the operator API: %s", api).isEqualTo(500);
                assertThat(api.contentType()).startsWith("application/problem+json");
            } finally {
                app.jdbc().execute("ALTER TABLE certificate_hidden_by_test RENAME TO certificate");
            }
            TrentClient.Response post = client.send("POST", "/ocsp", Map.of("Content-Type",
                    "application/ocsp-request"), request);
            assertThat(new OCSPResp(post.body()).getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
        }
    }

    private static byte[] ocspRequest(X509Certificate issuer, BigInteger serial) throws Exception {
        return new OCSPReqBuilder().addRequest(new CertificateID(new JcaDigestCalculatorProviderBuilder().build()
                .get(CertificateID.HASH_SHA1), new X509CertificateHolder(issuer.getEncoded()), serial)).build()
                .getEncoded();
    }

    private static String ocspPath(X509Certificate issuer, BigInteger serial) throws Exception {
        return "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(ocspRequest(issuer, serial)),
                StandardCharsets.US_ASCII);
    }
}
