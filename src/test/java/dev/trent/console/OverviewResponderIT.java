package dev.trent.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.ui.ExtendedModelMap;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.ocsp.OcspResponderKey;

/**
 * The overview shows each issuer's OCSP responder but issues none: a GET signs nothing. Its own
 * context (a fresh issuer that no OCSP request has needed a responder for yet), since the
 * console's other tests ask OCSP and so hold a responder already.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "trent.data-dir=target/it-data/${random.uuid}",
    "trent.tls.port=0"
})
class OverviewResponderIT {

    @Autowired
    OverviewController overview;

    @Autowired
    OcspResponderKey responders;

    @Autowired
    IssuerRegistry issuers;

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void overviewWhenNoResponderYetThenShowsNoneAndIssuesNoneUntilOcspNeedsOne() {
        Issuer active = issuers.active();

        OverviewController.IssuerState before = state(active);

        assertThat(responderRows(active)).as("the overview issued no responder certificate").isZero();
        assertThat(before.responderNotAfter()).isNull();
        assertThat(before.responderError()).isEqualTo("none yet (issued at the first OCSP request)");

        OcspResponderKey.Responder first = responders.current(active).orElseThrow(); // as the first OCSP request
        OverviewController.IssuerState after = state(active);

        assertThat(responderRows(active)).isEqualTo(1);
        assertThat(after.responderNotAfter()).isEqualTo(first.notAfter());
        assertThat(after.responderError()).isNull();
    }

    private OverviewController.IssuerState state(Issuer issuer) {
        ExtendedModelMap model = new ExtendedModelMap();
        assertThat(overview.overview(model)).isEqualTo("console/overview");
        @SuppressWarnings("unchecked")
        List<OverviewController.IssuerState> states = (List<OverviewController.IssuerState>) model.get("issuers");
        return states.stream().filter(s -> s.issuer().id().equals(issuer.id())).findFirst().orElseThrow();
    }

    private int responderRows(Issuer issuer) {
        return jdbc.queryForObject("select count(*) from ocsp_responder where issuer_id = ?", Integer.class,
                issuer.id());
    }
}
