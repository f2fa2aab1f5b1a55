package dev.trent.broker;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;

/**
 * {@code mosquitto} in {@code /actuator/health}, not in readiness: UP while connected, UNKNOWN
 * (which does not lower the aggregate status) while the broker is unreachable, because a broker
 * outage must not take the CA out of service; changes wait in the outbox meanwhile. Details:
 * {@code connected}, {@code problem}, {@code backlog} (devices waiting) and {@code oldestDue}.
 */
final class MosquittoHealthIndicator implements HealthIndicator {

    private final BrokerRelay relay;

    MosquittoHealthIndicator(BrokerRelay relay) {
        this.relay = relay;
    }

    @Override
    public Health health() {
        DynsecConnection c = relay.connection();
        BrokerOutbox.Backlog b = relay.backlog();
        Health.Builder h = c.ready() ? Health.up() : Health.status(Status.UNKNOWN);
        h.withDetail("connected", c.ready()).withDetail("backlog", b.rows());
        if (b.oldestDue() != null) {
            h.withDetail("oldestDue", b.oldestDue().toString());
        }
        if (!c.ready() && c.lastProblem() != null) {
            h.withDetail("problem", c.lastProblem());
        }
        return h.build();
    }
}
