package dev.trent.console;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;


import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;

import dev.trent.audit.AuditTrail;
import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.crl.CrlPublisher;
import dev.trent.ocsp.OcspResponderKey;

/** The console's login page, its overview, and the page a refused request lands on. */
@Controller
class OverviewController {

    static final int CHART_DAYS = 30;

    private final ConsoleQueries queries;
    private final IssuerRegistry issuers;
    private final CrlPublisher crls;
    private final OcspResponderKey responders;
    private final HealthIndicator signerHealth;
    private final AuditTrail audit;
    private final Clock clock;

    OverviewController(ConsoleQueries queries, IssuerRegistry issuers, CrlPublisher crls, OcspResponderKey responders,
            @Qualifier("signer") HealthIndicator signerHealth, AuditTrail audit, Clock clock) {
        this.queries = queries;
        this.issuers = issuers;
        this.crls = crls;
        this.responders = responders;
        this.signerHealth = signerHealth;
        this.audit = audit;
        this.clock = clock;
    }

    @GetMapping("/console/login")
    String login() {
        return "console/login";
    }

    @RequestMapping("/console/denied")
    String denied() {
        return "console/denied";
    }

    @GetMapping("/console")
    String root() {
        return "redirect:/console/";
    }

    /** One issuer's publishing state: its CRL (number, age, next update) and OCSP responder. */
    record IssuerState(IssuerRegistry.Summary issuer, Long crlNumber, Duration crlAge, Instant crlNextUpdate,
            boolean crlExpired, Instant responderNotAfter, String responderError) {
    }

    @GetMapping("/console/")
    String overview(Model model) {
        Instant now = clock.instant();
        List<ConsoleQueries.ProfileCount> counts = queries.countsByProfile();
        model.addAttribute("counts", counts);
        model.addAttribute("totalIssued", counts.stream().mapToLong(ConsoleQueries.ProfileCount::issued).sum());
        model.addAttribute("totalRevoked", counts.stream().mapToLong(ConsoleQueries.ProfileCount::revoked).sum());
        model.addAttribute("expiring", queries.expiring());
        List<IssuerState> states = new ArrayList<>();
        for (IssuerRegistry.Summary s : issuers.summaries()) {
            Long number = null;
            Duration age = null;
            Instant next = null;
            boolean expired = false;
            var head = crls.latestHead(s.id());
            if (head.isPresent()) {
                number = head.get().number();
                age = Duration.between(head.get().thisUpdate(), now);
                next = head.get().nextUpdate();
                expired = now.isAfter(next);
            }
            Instant responder = null;
            String responderError = null;
            if (s.publishing()) {
                Issuer issuer = issuers.byId(s.id()).orElse(null);
                try {
                    // A peek: showing the state must not issue a responder certificate (OCSP does when asked).
                    var current = issuer == null ? java.util.Optional.<OcspResponderKey.Responder>empty()
                            : responders.peek(issuer);
                    responder = current.map(r -> r.certificate().getNotAfter().toInstant()).orElse(null);
                    responderError = current.isPresent() ? null : s.keyLoaded()
                            ? "none yet (issued at the first OCSP request)"
                            : "no valid responder (the issuer's key is not here)";
                } catch (RuntimeException e) {
                    responderError = "no responder: " + e.getClass().getSimpleName();
                }
            }
            states.add(new IssuerState(s, number, age, next, expired, responder, responderError));
        }
        model.addAttribute("issuers", states);
        Health signer = signerHealth.health();
        model.addAttribute("signerStatus", signer.getStatus().getCode());
        model.addAttribute("signerDetails", signer.getDetails());
        model.addAttribute("events", audit.page(null, 10, null, null, null).events());
        model.addAttribute("chart", Chart.of(queries.perDay(CHART_DAYS)));
        model.addAttribute("now", now);
        return "console/overview";
    }

    /**
     * A bar chart of issuances and revocations per day, laid out here so the page draws it with
     * plain SVG elements (no script).
     */
    record Chart(int width, int height, long max, List<Bar> bars, List<Label> labels) {

        record Bar(int x, int y, int width, int height, String kind, String title) {
        }

        record Label(int x, String text) {
        }

        static final int HEIGHT = 160;
        static final int DAY_WIDTH = 22;

        static Chart of(List<ConsoleQueries.Day> days) {
            long max = Math.max(1, days.stream().mapToLong(d -> Math.max(d.issued(), d.revoked())).max().orElse(1));
            List<Bar> bars = new ArrayList<>();
            List<Label> labels = new ArrayList<>();
            int x = 0;
            for (int i = 0; i < days.size(); i++) {
                ConsoleQueries.Day d = days.get(i);
                int hi = (int) Math.round((double) d.issued() * (HEIGHT - 20) / max);
                int hr = (int) Math.round((double) d.revoked() * (HEIGHT - 20) / max);
                bars.add(new Bar(x + 2, HEIGHT - 20 - hi, 9, hi, "issued", d.day() + ": " + d.issued() + " issued"));
                bars.add(new Bar(x + 11, HEIGHT - 20 - hr, 9, hr, "revoked", d.day() + ": " + d.revoked() + " revoked"));
                if (i % 7 == 0 || (i == days.size() - 1 && i % 7 >= 3)) {
                    labels.add(new Label(x, d.day().toString().substring(5)));
                }
                x += DAY_WIDTH;
            }
            return new Chart(x, HEIGHT, max, bars, labels);
        }
    }

}
