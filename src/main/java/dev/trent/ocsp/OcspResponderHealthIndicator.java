package dev.trent.ocsp;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;

/**
 * {@code ocspResponders} in {@code /actuator/health} (not in readiness: the instance serves
 * everything else): per issuer OCSP answers for, whether its key is here and until when a
 * delegated responder certificate is valid. DOWN when an issuer whose key is not here (a
 * retired one) still has unexpired certificates but no valid responder: OCSP then answers
 * {@code unauthorized} for them (RFC 6960 2.3).
 */
@Component("ocspResponders")
class OcspResponderHealthIndicator implements HealthIndicator {

    private final IssuerRegistry issuers;
    private final OcspResponderKey responders;

    OcspResponderHealthIndicator(IssuerRegistry issuers, OcspResponderKey responders) {
        this.issuers = issuers;
        this.responders = responders;
    }

    @Override
    public Health health() {
        boolean down = false;
        Map<String, Object> details = new LinkedHashMap<>();
        for (Issuer issuer : issuers.answering()) {
            Map<String, Object> d = new LinkedHashMap<>();
            boolean keyLoaded = issuers.keyLoaded(issuer.id());
            Optional<java.time.Instant> until = responders.validUntil(issuer);
            d.put("keyLoaded", keyLoaded);
            d.put("status", until.isPresent() ? "answering" : keyLoaded ? "on-demand" : "unauthorized");
            until.ifPresent(u -> d.put("responderNotAfter", u.toString()));
            issuers.retiredUntil(issuer.id()).ifPresent(u -> d.put("retiredUntil", u.toString()));
            down |= until.isEmpty() && !keyLoaded;
            details.put(issuer.id(), d);
        }
        return (down ? Health.down() : Health.up()).withDetail("issuers", details).build();
    }
}
