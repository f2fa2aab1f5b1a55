package dev.trent.webhook;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code trent.webhooks.attempts}: delivery attempts made by this instance, tagged
 * {@code outcome} ({@code delivered}: a 2xx; {@code failed}: retried later; {@code given-up}: the
 * last attempt failed, the delivery is FAILED). {@code trent.webhooks.pending} and
 * {@code trent.webhooks.oldest.pending.seconds}: deliveries not yet made, across all instances
 * (read from the database at each scrape), and the age of the oldest: the figures to alert on
 * when an endpoint is down.
 */
@Component
class WebhookMetrics {

    private final Counter delivered;
    private final Counter failed;
    private final Counter givenUp;

    WebhookMetrics(MeterRegistry registry, JdbcTemplate jdbc) {
        delivered = attempts(registry, "delivered");
        failed = attempts(registry, "failed");
        givenUp = attempts(registry, "given-up");
        Gauge.builder("trent.webhooks.pending", jdbc, j -> query(j, "select count(*) from webhook_delivery "
                + "where status = 'PENDING'")).description("Webhook deliveries not yet made (all instances)")
                .register(registry);
        Gauge.builder("trent.webhooks.oldest.pending.seconds", jdbc, j -> query(j, "select coalesce(extract(epoch "
                + "from now() - min(created_at)), 0) from webhook_delivery where status = 'PENDING'"))
                .description("Age of the oldest webhook delivery not yet made").register(registry);
    }

    private static Counter attempts(MeterRegistry registry, String outcome) {
        return Counter.builder("trent.webhooks.attempts").description("Webhook delivery attempts, by outcome")
                .tag("outcome", outcome).register(registry);
    }

    private static double query(JdbcTemplate jdbc, String sql) {
        try {
            Number n = jdbc.queryForObject(sql, Number.class);
            return n == null ? 0 : n.doubleValue();
        } catch (RuntimeException e) {
            return Double.NaN; // the database is unreachable: health says so
        }
    }

    void delivered() {
        delivered.increment();
    }

    void failed() {
        failed.increment();
    }

    void givenUp() {
        givenUp.increment();
    }
}
