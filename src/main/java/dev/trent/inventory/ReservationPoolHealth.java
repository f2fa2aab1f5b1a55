package dev.trent.inventory;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * {@code reservations} in {@code /actuator/health} and its readiness group: DOWN while the pool
 * that commits serial reservations before each signature ({@link CertificateStore}) cannot hand
 * out a working connection. After a database outage it comes back separately from the main pool
 * ({@code db}); without this, readiness could say UP while the first enrollments still answered
 * 503.
 */
@Component("reservations")
class ReservationPoolHealth implements HealthIndicator {

    private final CertificateStore store;

    ReservationPoolHealth(CertificateStore store) {
        this.store = store;
    }

    @Override
    public Health health() {
        return store.reservationPoolReachable() ? Health.up().build()
                : Health.down().withDetail("reason", "the reservation pool cannot reach PostgreSQL").build();
    }
}
