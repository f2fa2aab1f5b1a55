package dev.trent.ocsp;

import static dev.trent.support.ProblemAssert.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.crl.CrlPublisher;
import dev.trent.support.IntegrationTest;
import dev.trent.support.MovableClock;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentApp;
import dev.trent.support.TrentClient;

/**
 * Time-driven behaviour reached by moving Trent's clock, not by sleeping or rewriting rows: an
 * enrollment token's expiry, the OCSP responder certificate's, a pre-signed OCSP answer's and the
 * CRL's renewal at half their life. One application with a clock of its own; each test moves it from wherever the
 * others left it.
 */
class MovedClockIT {

    @TempDir
    static Path dir;

    private static final MovableClock clock = new MovableClock();
    private static TrentApp app;

    @BeforeAll
    static void start() {
        app = TrentApp.start(Map.of("trent.data-dir", dir.resolve("data").toString(),
                "trent.bootstrap-admin-token", IntegrationTest.ADMIN_KEY), clock);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
    }

    private static Issuer activeIssuer() {
        return app.context().getBean(IssuerRegistry.class).active();
    }

    /** Moves the clock to one minute past {@code instant} (never back). */
    private static void moveTo(Instant instant) {
        Duration by = Duration.between(clock.instant(), instant.plusSeconds(60));
        if (!by.isNegative()) {
            clock.advance(by);
        }
    }

    @Test
    void enrollWhenTheTokensTtlHasPassedThen401AndNothingIssued() {
        TrentClient c = app.client();
        String device = "moved-expiry-" + System.nanoTime();
        TrentClient.Response created = c.postJson("/api/v1/enrollment-tokens", IntegrationTest.ADMIN_KEY,
                Map.of("deviceId", device, "profile", "device", "ttlSeconds", 3600));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        String secret = created.json().get("token").asText();

        clock.advance(Duration.ofHours(1).plusMinutes(1));
        TrentClient.Response r = c.enroll(secret, "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null);

        assertProblem(r, 401, "enrollment-token-invalid");
        assertThat(r.json().get("detail").asText()).contains("expired");
        // Expiry is checked before the CSR: a dead token gets 401 whatever the body.
        assertProblem(c.enroll(secret, "application/x-pem-file", "garbage".getBytes(), null), 401,
                "enrollment-token-invalid");
        assertThat(app.jdbc().queryForObject("select count(*) from certificate where device_id = ?", Integer.class,
                device)).isZero();
    }

    @Test
    void enrollWhenTheTokensTtlHasNotPassedThenIssued() {
        TrentClient c = app.client();
        String device = "moved-in-time-" + System.nanoTime();
        TrentClient.Response created = c.postJson("/api/v1/enrollment-tokens", IntegrationTest.ADMIN_KEY,
                Map.of("deviceId", device, "profile", "device", "ttlSeconds", 3600));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);

        clock.advance(Duration.ofMinutes(59));
        TrentClient.Response r = c.enroll(created.json().get("token").asText(), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null);

        assertThat(r.status()).as(r.toString()).isEqualTo(201);
    }

    @Test
    void ocspResponderWhenHalfItsLifeHasPassedThenReplacedAndNotBefore() {
        OcspResponderKey responders = app.context().getBean(OcspResponderKey.class);
        Issuer issuer = activeIssuer();
        responders.rotateIfDue(); // whatever earlier moves did: a responder in its first half now
        X509Certificate first = responders.current(issuer).orElseThrow().certificate();
        Instant notBefore = first.getNotBefore().toInstant();
        Instant half = notBefore.plus(Duration.between(notBefore, first.getNotAfter().toInstant()).dividedBy(2));

        moveTo(half.minus(Duration.ofMinutes(10)));
        responders.rotateIfDue();
        assertThat(responders.current(issuer).orElseThrow().certificate()).as("before half-life").isEqualTo(first);

        moveTo(half);
        responders.rotateIfDue();
        X509Certificate second = responders.current(issuer).orElseThrow().certificate();
        assertThat(second.getSerialNumber()).as("after half-life").isNotEqualTo(first.getSerialNumber());
        assertThat(second.getNotBefore().toInstant()).isAfter(notBefore);
    }

    /**
     * A pre-signed answer is served, by its URL, until half of its validity has passed, and a new
     * one is signed after that (RFC 5019 4: responses are pre-produced and refreshed before they expire).
     */
    @Test
    void ocspGetWhenHalfTheAnswersLifeHasPassedThenSignedAgainAndNotBefore() throws Exception {
        TrentClient c = app.client();
        X509Certificate cert = c.enroll(c.token(IntegrationTest.ADMIN_KEY, "moved-ocsp-" + System.nanoTime(),
                "device", null), "application/x-pem-file", TestCsrs.ecP256("x").pem().getBytes(), null)
                .certificates().get(0);
        CertificateID id = new CertificateID(new JcaDigestCalculatorProviderBuilder().build().get(
                CertificateID.HASH_SHA1), new X509CertificateHolder(activeIssuer().certificate().getEncoded()),
                cert.getSerialNumber());
        String path = "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(
                new OCSPReqBuilder().addRequest(id).build().getEncoded()), StandardCharsets.US_ASCII);

        TrentClient.Response first = c.get(path, null, null);
        SingleResp answer = single(first);
        assertThat(answer.getCertStatus()).as("good").isNull();
        Instant thisUpdate = answer.getThisUpdate().toInstant();
        Instant half = thisUpdate.plus(Duration.between(thisUpdate, answer.getNextUpdate().toInstant()).dividedBy(2));

        moveTo(half.minus(Duration.ofMinutes(10)));
        assertThat(c.get(path, null, null).body()).as("before half-life: the pre-signed answer").isEqualTo(first.body());

        moveTo(half);
        Instant moved = clock.instant().minusSeconds(1);
        TrentClient.Response second = c.get(path, null, null);
        assertThat(second.body()).as("after half-life: signed again").isNotEqualTo(first.body());
        assertThat(single(second).getThisUpdate().toInstant()).isAfterOrEqualTo(moved.truncatedTo(
                java.time.temporal.ChronoUnit.SECONDS));
        assertThat(c.get(path, null, null).body()).as("and pre-signed from then on").isEqualTo(second.body());
    }

    private static SingleResp single(TrentClient.Response r) throws Exception {
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        OCSPResp resp = new OCSPResp(r.body());
        assertThat(resp.getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
        return ((BasicOCSPResp) resp.getResponseObject()).getResponses()[0];
    }

    @Test
    void crlWhenHalfItsLifeHasPassedThenThePublisherMakesANewOne() throws Exception {
        CrlPublisher publisher = app.context().getBean(CrlPublisher.class);
        String issuerId = activeIssuer().id();
        Optional<CrlPublisher.Head> head = publisher.latestHead(issuerId);
        for (int i = 0; i < 100 && head.isEmpty(); i++) {
            Thread.sleep(100); // the publisher's first tick at start
            head = publisher.latestHead(issuerId);
        }
        CrlPublisher.Head first = head.orElseThrow(() -> new AssertionError("no CRL after start"));
        Instant half = first.thisUpdate().plus(Duration.between(first.thisUpdate(), first.nextUpdate()).dividedBy(2));

        moveTo(half);
        Instant moved = clock.instant().minusSeconds(1);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        CrlPublisher.Head next = first;
        while (next.number() == first.number() && System.nanoTime() < deadline) {
            Thread.sleep(100); // the next tick (trent.crl.batch-delay) sees the moved clock
            next = publisher.latestHead(issuerId).orElseThrow();
        }

        assertThat(next.number()).as("a new CRL number").isGreaterThan(first.number());
        assertThat(next.thisUpdate()).as("made on the moved clock").isAfterOrEqualTo(moved.truncatedTo(
                java.time.temporal.ChronoUnit.SECONDS));
    }
}
