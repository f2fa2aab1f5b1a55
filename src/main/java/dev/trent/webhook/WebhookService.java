package dev.trent.webhook;

import java.net.URI;
import java.security.SecureRandom;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.audit.AuditLog;
import dev.trent.domain.DomainException;
import dev.trent.pki.SecretBox;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Webhook endpoints: registration (the signing secret generated here and shown once), listing,
 * removal, and each endpoint's delivery history. Registration and removal are audited.
 */
@Service
public class WebhookService {

    static final int MAX_PAGE_SIZE = 500;

    private final JdbcTemplate jdbc;
    private final AuditLog audit;
    private final Clock clock;
    private final SecureRandom random;
    private final SecretBox secrets;
    private final AddressPolicy addresses;
    private final JsonMapper json;
    private final TransactionTemplate tx;

    /** What an endpoint's sealed secret is bound to (its row): the associated data of {@link SecretBox}. */
    static String sealContext(long endpointId) {
        return "trent-webhook-endpoint:" + endpointId;
    }

    WebhookService(JdbcTemplate jdbc, AuditLog audit, Clock clock, SecureRandom random, SecretBox secrets,
            AddressPolicy addresses, JsonMapper json, PlatformTransactionManager transactions) {
        this.jdbc = jdbc;
        this.tx = new TransactionTemplate(transactions);
        this.audit = audit;
        this.clock = clock;
        this.random = random;
        this.secrets = secrets;
        this.addresses = addresses;
        this.json = json;
    }

    /** An endpoint as operators see it; {@code secret} only in the response that creates it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EndpointView(long id, String url, List<String> eventTypes, String description, Instant createdAt,
            String createdBy, String secret) {

        /** Never the secret (a log of response bodies, e.g. at TRACE, would otherwise show it). */
        @Override
        public String toString() {
            return "EndpointView[id=" + id + ", url=" + url + ", eventTypes=" + eventTypes + ", description="
                    + description + ", createdAt=" + createdAt + ", createdBy=" + createdBy + ", secret="
                    + (secret == null ? "null" : "<redacted>") + "]";
        }
    }

    /** One event for one endpoint, and how its delivery went. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DeliveryView(long id, String messageId, String eventType, String status, int attempts, Instant createdAt,
            Instant nextAttemptAt, Instant lastAttemptAt, Integer lastStatus, String lastError, Instant deliveredAt,
            JsonNode payload) {
    }

    public record DeliveryPage(List<DeliveryView> items, int page, int size, long totalItems, int totalPages) {
    }

    @Transactional
    public EndpointView create(String url, List<String> eventTypes, String description, String actor) {
        if (url == null || url.isBlank()) {
            throw DomainException.invalid("url is required: the http or https URL to send events to.");
        }
        URI uri;
        try {
            uri = addresses.parse(url);
        } catch (AddressPolicy.RefusedException e) {
            throw DomainException.invalid("webhook-url-refused", "Webhook URL refused", e.getMessage());
        }
        if (eventTypes == null || eventTypes.isEmpty()) {
            throw DomainException.invalid("eventTypes is required: one or more of "
                    + WebhookEventType.allNames() + ".");
        }
        Set<String> types = new LinkedHashSet<>();
        for (String t : eventTypes) {
            if (t == null || WebhookEventType.of(t).isEmpty()) {
                throw DomainException.invalid("webhook-event-type-unknown", "Unknown event type",
                        "Unknown event type '" + t + "'; the event types are " + WebhookEventType.allNames() + ".");
            }
            types.add(t);
        }
        if (description != null && description.strip().length() > 200) {
            throw DomainException.invalid("description must be at most 200 characters.");
        }
        String desc = description == null || description.isBlank() ? null : description.strip();
        byte[] secret = new byte[WebhookSignature.SECRET_BYTES];
        random.nextBytes(secret);
        Instant now = clock.instant();
        Long id = jdbc.queryForObject("select nextval(pg_get_serial_sequence('webhook_endpoint', 'id'))", Long.class);
        jdbc.update(con -> {
            var ps = con.prepareStatement("insert into webhook_endpoint (id, url, event_types, secret_sealed, "
                    + "secret_key_id, description, created_at, created_by) values (?, ?, ?, ?, ?, ?, ?, ?)");
            ps.setLong(1, id);
            ps.setString(2, uri.toString());
            ps.setArray(3, con.createArrayOf("text", types.toArray()));
            ps.setBytes(4, secrets.seal(secret, sealContext(id)));
            ps.setString(5, secrets.keyId());
            ps.setString(6, desc);
            ps.setTimestamp(7, Timestamp.from(now));
            ps.setString(8, actor);
            return ps;
        });
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("url", uri.toString());
        details.put("eventTypes", List.copyOf(types));
        audit.record(actor, "webhook.created", "webhook:" + id, details);
        return new EndpointView(id, uri.toString(), List.copyOf(types), desc, now, actor,
                WebhookSignature.serialize(secret));
    }

    /** The event types an endpoint can subscribe to, by their wire names. */
    public List<String> eventTypes() {
        return java.util.Arrays.stream(WebhookEventType.values()).map(WebhookEventType::wireName).toList();
    }

    @Transactional(readOnly = true)
    public List<EndpointView> list() {
        return jdbc.query("select id, url, event_types, description, created_at, created_by from webhook_endpoint "
                + "order by id", WebhookService::endpoint);
    }

    @Transactional(readOnly = true)
    public EndpointView get(long id) {
        return jdbc.query("select id, url, event_types, description, created_at, created_by from webhook_endpoint "
                + "where id = ?", WebhookService::endpoint, id).stream().findFirst()
                .orElseThrow(() -> notFound(id));
    }

    /** Deliveries removed per transaction when an endpoint is deleted. */
    static final int DELETE_BATCH = 10_000;

    /**
     * Removes the endpoint with its delivery history; deliveries not yet made are not made. The
     * history (up to {@code history-retention} of it, possibly many rows) is removed first in
     * short transactions of {@link #DELETE_BATCH}, then the endpoint row with what was written
     * meanwhile: its row lock, which a certificate change subscribed to the endpoint waits for
     * ({@code FOR KEY SHARE} in the outbox), is held only for that last short transaction.
     */
    public EndpointView delete(long id, String actor) {
        get(id);
        int removed;
        do {
            removed = jdbc.update("delete from webhook_delivery where id in (select id from webhook_delivery "
                    + "where endpoint_id = ? limit ?)", id, DELETE_BATCH);
        } while (removed == DELETE_BATCH);
        return tx.execute(status -> {
            EndpointView endpoint = jdbc.query("select id, url, event_types, description, created_at, created_by "
                    + "from webhook_endpoint where id = ? for update", WebhookService::endpoint, id).stream()
                    .findFirst().orElseThrow(() -> notFound(id));
            jdbc.update("delete from webhook_endpoint where id = ?", id);
            audit.record(actor, "webhook.deleted", "webhook:" + id, Map.of("url", endpoint.url()));
            return endpoint;
        });
    }

    @Transactional(readOnly = true)
    public DeliveryPage deliveries(long id, int page, int size) {
        dev.trent.web.Paging.check(page, size, MAX_PAGE_SIZE);
        get(id);
        Long total = jdbc.queryForObject("select count(*) from webhook_delivery where endpoint_id = ?", Long.class, id);
        List<DeliveryView> items = jdbc.query("select id, message_id, event_type, status, attempts, created_at, "
                + "next_attempt_at, last_attempt_at, last_status, last_error, delivered_at, payload::text "
                + "from webhook_delivery where endpoint_id = ? order by id desc limit ? offset ?",
                (rs, n) -> new DeliveryView(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getInt(5), instant(rs, 6), instant(rs, 7), instant(rs, 8),
                        (Integer) rs.getObject(9), rs.getString(10), instant(rs, 11), json.readTree(rs.getString(12))),
                id, size, (long) page * size);
        long totalItems = total == null ? 0 : total;
        return new DeliveryPage(items, page, size, totalItems, (int) ((totalItems + size - 1) / size));
    }

    private static DomainException notFound(long id) {
        return DomainException.notFound("No webhook with id " + id + ".");
    }

    private static EndpointView endpoint(ResultSet rs, int n) throws SQLException {
        Array types = rs.getArray(3);
        List<String> eventTypes = new ArrayList<>(Arrays.asList((String[]) types.getArray()));
        return new EndpointView(rs.getLong(1), rs.getString(2), eventTypes, rs.getString(4), instant(rs, 5),
                rs.getString(6), null);
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
