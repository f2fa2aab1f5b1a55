package dev.trent.crl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;

/**
 * {@code crl} in {@code /actuator/health} and its readiness group: DOWN when the current CRL of
 * any publishing issuer is past its nextUpdate (relying parties that check CRLs then refuse
 * every certificate of that issuer), with each issuer's CRL number, thisUpdate and nextUpdate in
 * the details. An issuer without a CRL yet (the first seconds after the first start or a
 * rotation, while the publisher makes it) is {@code pending} and does not make the indicator
 * DOWN, unless it stays without one for longer than {@link #FIRST_CRL_GRACE}.
 *
 * <p>Reads PostgreSQL, where every instance's CRLs are, so any instance reports the fleet's CRL.
 */
@Component("crl")
class CrlHealthIndicator implements HealthIndicator {

    /** How long an issuer may have no CRL at all before that counts as DOWN. */
    static final Duration FIRST_CRL_GRACE = Duration.ofMinutes(1);

    private final IssuerRegistry issuers;
    private final CrlPublisher publisher;
    private final Clock clock;
    /** When this instance first saw each issuer without a CRL. */
    private final Map<String, Instant> withoutCrlSince = new ConcurrentHashMap<>();

    CrlHealthIndicator(IssuerRegistry issuers, CrlPublisher publisher, Clock clock) {
        this.issuers = issuers;
        this.publisher = publisher;
        this.clock = clock;
    }

    @Override
    public Health health() {
        Instant now = clock.instant();
        boolean down = false;
        Map<String, Object> details = new LinkedHashMap<>();
        for (Issuer issuer : issuers.all()) {
            Map<String, Object> d = new LinkedHashMap<>();
            Optional<CrlPublisher.Head> head = publisher.latestHead(issuer.id());
            if (head.isEmpty()) {
                Instant since = withoutCrlSince.computeIfAbsent(issuer.id(), k -> now);
                boolean late = !now.isBefore(since.plus(FIRST_CRL_GRACE));
                d.put("status", late ? "missing" : "pending");
                down |= late;
            } else {
                withoutCrlSince.remove(issuer.id());
                CrlPublisher.Head h = head.get();
                boolean expired = now.isAfter(h.nextUpdate());
                d.put("status", expired ? "expired" : "current");
                d.put("crlNumber", h.number());
                d.put("thisUpdate", h.thisUpdate().toString());
                d.put("nextUpdate", h.nextUpdate().toString());
                down |= expired;
            }
            details.put(issuer.id(), d);
        }
        return (down ? Health.down() : Health.up()).withDetail("issuers", details).build();
    }
}
