package dev.trent.ca;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code signer} in {@code /actuator/health} and its readiness group: DOWN while the active
 * issuer's key cannot be reached (an HSM fault, a degraded start, or an active issuer whose key
 * this instance cannot load), with the reason in the details.
 */
@Component("signer")
class SignerHealthIndicator implements HealthIndicator {

    private final IssuerRegistry issuers;

    SignerHealthIndicator(IssuerRegistry issuers) {
        this.issuers = issuers;
    }

    @Override
    public Health health() {
        KeyStatus signer = issuers.active().key();
        Health.Builder b = signer.available() ? Health.up() : Health.down().withDetail("fault", signer.fault());
        return b.withDetail("key", signer.describe()).build();
    }
}
