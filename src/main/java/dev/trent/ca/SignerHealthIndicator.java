package dev.trent.ca;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code signer} in {@code /actuator/health} and its readiness group: DOWN while the CA key
 * cannot be reached (an HSM fault, or a degraded start), with the reason in the details.
 */
@Component("signer")
class SignerHealthIndicator implements HealthIndicator {

    private final CaSigner signer;

    SignerHealthIndicator(CaSigner signer) {
        this.signer = signer;
    }

    @Override
    public Health health() {
        Health.Builder b = signer.available() ? Health.up() : Health.down().withDetail("fault", signer.fault());
        return b.withDetail("key", signer.describe()).build();
    }
}
