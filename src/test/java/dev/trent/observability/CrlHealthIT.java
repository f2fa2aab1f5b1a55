package dev.trent.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;
import org.springframework.test.context.bean.override.convention.TestBean;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.crl.CrlPublisher;
import dev.trent.support.IntegrationTest;
import dev.trent.support.MovableClock;
import dev.trent.support.TrentClient;
import tools.jackson.databind.JsonNode;

/**
 * The {@code crl} health indicator in readiness: UP while every issuer's current CRL is before
 * its nextUpdate, DOWN (503) once one is past it, UP again when a new CRL is published. The
 * publisher ticks hourly here, so nothing replaces the aged CRL behind the test's back. The CRL
 * ages by moving Trent's clock past its nextUpdate (a context of its own).
 */
@TestPropertySource(properties = "trent.crl.batch-delay=1h")
class CrlHealthIT extends IntegrationTest {

    private static final MovableClock CLOCK = new MovableClock();

    @TestBean(name = "clock")
    private Clock clock;

    static Clock clock() {
        return CLOCK;
    }

    @Autowired
    private CrlPublisher publisher;

    @Autowired
    private IssuerRegistry issuers;

    @Test
    void readinessWhenCurrentCrlPastNextUpdateThenDownWithIssuerAndNextUpdateAndUpAfterANewCrl() throws Exception {
        Issuer issuer = issuers.active();
        for (int i = 0; i < 100 && publisher.latestHead(issuer.id()).isEmpty(); i++) {
            Thread.sleep(100); // the first CRL is made by the publisher's first tick at start
        }
        assertThat(publisher.latestHead(issuer.id())).isPresent();
        TrentClient c = client();
        assertThat(c.get("/actuator/health/readiness", null, null).status()).isEqualTo(200);
        assertThat(c.get("/actuator/health", ADMIN_KEY, null).json().at("/components/crl/status").asString())
                .isEqualTo("UP");

        CrlPublisher.Head head = publisher.latestHead(issuer.id()).orElseThrow();
        long number = head.number();
        CLOCK.advance(Duration.between(CLOCK.instant(), head.nextUpdate()).plusMinutes(1));

        TrentClient.Response anonymous = c.get("/actuator/health/readiness", null, null);
        assertThat(anonymous.status()).as(anonymous.toString()).isEqualTo(503);
        assertThat(anonymous.json().get("status").asString()).isEqualTo("DOWN");
        assertThat(anonymous.json().has("components")).isFalse();
        assertThat(c.get("/actuator/health/liveness", null, null).status()).as("liveness is unaffected").isEqualTo(200);

        JsonNode crl = c.get("/actuator/health/readiness", ADMIN_KEY, null).json().at("/components/crl");
        assertThat(crl.get("status").asString()).isEqualTo("DOWN");
        JsonNode detail = crl.at("/details/issuers/" + issuer.id());
        assertThat(detail.get("status").asString()).as("%s", crl).isEqualTo("expired");
        assertThat(detail.get("nextUpdate").asString()).isEqualTo(head.nextUpdate().toString());
        assertThat(detail.get("crlNumber").asLong()).isEqualTo(number);

        assertThat(publisher.generate(issuer)).isTrue();
        assertThat(c.get("/actuator/health/readiness", null, null).status()).isEqualTo(200);
        JsonNode after = c.get("/actuator/health", ADMIN_KEY, null).json().at("/components/crl");
        assertThat(after.get("status").asString()).isEqualTo("UP");
        assertThat(after.at("/details/issuers/" + issuer.id() + "/status").asString()).isEqualTo("current");
    }
}
