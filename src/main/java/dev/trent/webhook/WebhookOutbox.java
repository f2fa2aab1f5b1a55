package dev.trent.webhook;

import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.config.TrentProperties;
import dev.trent.config.WriteBehind;
import dev.trent.inventory.CertificateEvent;
import dev.trent.inventory.CertificateStore;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes the outbox: for each certificate event, one {@code webhook_delivery} row per endpoint
 * that subscribed to its type, inside the transaction of the change (a plain
 * {@code @EventListener}), so the change and its webhooks commit or roll back together. After the
 * commit (a transaction synchronization, registered only when rows were written), the dispatcher
 * is woken so that it does not wait for its next poll. Also finds the
 * certificates that start to expire ({@code certificate.expiring}), once per certificate.
 */
@Component
class WebhookOutbox {

    private static final Logger log = LoggerFactory.getLogger(WebhookOutbox.class);
    /** Trent's own certificates, never announced. */
    private static final List<String> OWN_PROFILES = List.of("ocsp-responder", "tls-server");

    private final JdbcTemplate jdbc;
    private final WriteBehind writeBehind;
    private final CertificateStore certificates;
    private final JsonMapper json;
    private final SecureRandom random;
    private final Clock clock;
    private final WebhookDispatcher dispatcher;
    private final TrentProperties.Webhooks settings;
    private final TransactionTemplate tx;
    /** Certificates announced per transaction; the job goes on while batches are full. */
    private static final int EXPIRING_BATCH = 1000;

    WebhookOutbox(JdbcTemplate jdbc, WriteBehind writeBehind, CertificateStore certificates, JsonMapper json,
            SecureRandom random, Clock clock, WebhookDispatcher dispatcher, TrentProperties properties,
            PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.writeBehind = writeBehind;
        this.certificates = certificates;
        this.tx = new TransactionTemplate(transactions);
        this.json = json;
        this.random = random;
        this.clock = clock;
        this.dispatcher = dispatcher;
        this.settings = properties.webhooks();
    }

    /**
     * The webhook body (Standard Webhooks' recommended structure: {@code type}, {@code timestamp}
     * of the event, {@code data}).
     *
     * @see <a href="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#payload-structure">Standard Webhooks, Payload structure</a>
     */
    record Payload(String type, Instant timestamp, Data data) {
    }

    /** The certificate as it is after the event. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Data(String serial, String issuerId, String deviceId, String profile, Instant notBefore,
            Instant notAfter, String status, String reason, String previousReason, String previousSerial,
            Instant revokedAt) {
    }

    @EventListener
    void onCertificateEvent(CertificateEvent event) {
        if (OWN_PROFILES.contains(event.profile())) {
            // Trent's own TLS and OCSP responder certificates are not announced (see CertificateEvent).
            return;
        }
        WebhookEventType type = WebhookEventType.of(event.type());
        // The certificate as it is after the event: at hand for an issuance (whose row is written
        // with the transaction's other writes), else read from its row, changed already.
        CertificateStore.Facts f = event.facts() != null ? event.facts()
                : certificates.facts(event.serial()).orElse(null);
        if (f == null) {
            // Cannot happen (the event is published after the row is written); never fail the
            // certificate change over its webhook.
            log.error("Certificate event {} for serial {}, which has no row; no webhook written", type.wireName(),
                    event.serial());
            return;
        }
        // One delivery per subscribed endpoint, chosen and written by one statement sent with the
        // transaction's other writes (no round trip of its own), in the order of the events.
        writeBehind.add(DELIVERIES_TO_SUBSCRIBERS, deliveryColumns(type, event.occurredAt(), data(f, event)),
                (rows, count) -> {
                    if (count > 0) {
                        // Sent at once after the commit, not at the next poll; events nobody
                        // subscribed to wake nothing.
                        dispatcher.wakeAfterCommit();
                    }
                });
    }

    private static Data data(CertificateStore.Facts f, CertificateEvent event) {
        return new Data(f.serial(), f.issuerId(), f.deviceId(), f.profile(), f.notBefore(), f.notAfter(),
                f.status().name(), event.reason(), event.previousReason(), event.previousSerial(), f.revokedAt());
    }

    /**
     * Announces {@code certificate.expiring} for each valid device certificate whose notAfter is
     * within {@code trent.webhooks.expiring-before}, once: the certificate's id is claimed in
     * {@code webhook_expiring_announced} in the same transaction as its deliveries, so two
     * instances, or a restart, never announce it twice. Runs only while some endpoint subscribes.
     */
    @Scheduled(initialDelayString = "${trent.webhooks.poll-interval:1s}",
            fixedDelayString = "${trent.webhooks.expiring-check-interval:1h}")
    public void announceExpiring() {
        Integer announced;
        do {
            announced = tx.execute(status -> announceExpiringBatch());
        } while (announced != null && announced == EXPIRING_BATCH);
    }

    /** One transaction: up to {@link #EXPIRING_BATCH} certificates claimed and their deliveries written. */
    private int announceExpiringBatch() {
        List<Long> endpoints = subscribers(WebhookEventType.EXPIRING);
        if (endpoints.isEmpty()) {
            return 0;
        }
        Instant now = clock.instant();
        List<Data> expiring = certificates.claimExpiring(now, now.plus(settings.expiringBefore()), OWN_PROFILES,
                EXPIRING_BATCH, now).stream().map(f -> new Data(f.serial(), f.issuerId(), f.deviceId(), f.profile(),
                        f.notBefore(), f.notAfter(), f.status().name(), null, null, null, null)).toList();
        for (Data d : expiring) {
            write(WebhookEventType.EXPIRING, now, d, endpoints);
        }
        if (!expiring.isEmpty()) {
            log.info("Announced {} expiring certificate(s) to {} webhook endpoint(s)", expiring.size(),
                    endpoints.size());
            dispatcher.wakeAfterCommit();
        }
        return expiring.size();
    }

    /**
     * Forgets deliveries that ended (delivered or failed) longer than
     * {@code trent.webhooks.history-retention} ago, in batches, so that the history of a busy
     * endpoint does not grow without bound. Pending deliveries are never removed.
     */
    @Scheduled(initialDelayString = "1m", fixedDelayString = "1h")
    public void pruneHistory() {
        Timestamp before = Timestamp.from(clock.instant().minus(settings.historyRetention()));
        int total = 0;
        int removed;
        do {
            removed = jdbc.update("delete from webhook_delivery where id in (select id from webhook_delivery "
                    + "where status <> 'PENDING' and created_at < ? limit 10000)", before);
            total += removed;
        } while (removed == 10000);
        if (total > 0) {
            log.info("Removed {} webhook deliveries older than {} from the history", total,
                    settings.historyRetention());
        }
    }

    /**
     * The endpoints subscribed to {@code type}, locked {@code FOR KEY SHARE} until the change
     * commits: an endpoint being deleted concurrently is either gone already (the row is skipped
     * once the delete commits) or waits for this transaction, so the deliveries inserted next
     * never fail their foreign key and a revocation never fails because of webhooks. Key share
     * conflicts only with deleting the row: concurrent changes do not wait for one another.
     */
    private List<Long> subscribers(WebhookEventType type) {
        return jdbc.queryForList("select id from webhook_endpoint where ? = any (event_types) order by id "
                + "for key share", Long.class, type.wireName());
    }

    private static final String DELIVERY_COLUMNS = "insert into webhook_delivery (endpoint_id, message_id, "
            + "event_type, payload, status, created_at, next_attempt_at) ";

    /**
     * {@link #subscribers} and their deliveries in one statement: the endpoints locked
     * {@code FOR KEY SHARE} as there, each given the same message.
     */
    private static final String DELIVERIES_TO_SUBSCRIBERS = DELIVERY_COLUMNS + "select e.id, ?, ?, ?::json, "
            + "'PENDING', ?, ? from webhook_endpoint e where ? = any (e.event_types) order by e.id for key share of e";

    /** The values of {@link #DELIVERIES_TO_SUBSCRIBERS}. */
    private Object[] deliveryColumns(WebhookEventType type, Instant at, Data data) {
        Timestamp now = Timestamp.from(clock.instant());
        return new Object[] {messageId(), type.wireName(), json.writeValueAsString(new Payload(type.wireName(), at,
                data)), now, now, type.wireName()};
    }

    private void write(WebhookEventType type, Instant at, Data data, List<Long> endpoints) {
        String body = json.writeValueAsString(new Payload(type.wireName(), at, data));
        String messageId = messageId();
        Timestamp now = Timestamp.from(clock.instant());
        jdbc.batchUpdate(DELIVERY_COLUMNS + "values (?, ?, ?, ?::json, 'PENDING', ?, ?)",
                endpoints.stream().map(e -> new Object[] {e, messageId, type.wireName(), body, now, now}).toList());
    }

    /** {@code msg_} and 128 random bits in base64url: no full stop, as the signature scheme requires. */
    private String messageId() {
        byte[] bytes = new byte[16];
        random.nextBytes(bytes);
        return "msg_" + Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
