package dev.trent.webhook;

import java.io.IOException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;

import javax.net.ssl.SSLContext;

import org.apache.hc.client5.http.ConnectTimeoutException;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.util.TimeValue;
import org.apache.hc.core5.util.Timeout;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.config.TrentProperties;
import dev.trent.pki.SecretBox;

/**
 * Sends the outbox. One thread polls (every {@code trent.webhooks.poll-interval}, and at once when
 * woken after a commit) and claims due deliveries with {@code FOR UPDATE SKIP LOCKED}, setting a
 * lease ({@code locked_until}) and counting the attempt in the same statement, so that with several
 * instances each delivery is sent by one of them (a second instance sends it again only when the
 * first crashed mid-send and its lease ran out: at-least-once). It claims no more than it has free
 * senders, and at most {@code per-endpoint-concurrency} deliveries of one endpoint in flight, so a
 * slow or dead endpoint holds at most that many senders, and revocation and enrollment (which
 * only insert rows) never wait for any of it.
 *
 * <p>An attempt: the host's addresses checked again ({@link AddressPolicy}), then a POST with the
 * Standard Webhooks headers, connected only to addresses the policy checked in the connection's
 * own lookup, the whole exchange (connect, request, response headers and body) bounded by
 * {@code connect-timeout + read-timeout}, which the lease must exceed; a 2xx is delivered,
 * anything else (redirects are not followed) is a failure, retried per {@link RetrySchedule}. Only the status code and a short error are kept.
 *
 * @see <a href="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#delivery-success-and-failure">Standard Webhooks, Delivery success and failure</a>
 */
@Component
class WebhookDispatcher implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(WebhookDispatcher.class);

    private final JdbcTemplate jdbc;
    private final SecretBox secrets;
    private final AddressPolicy addresses;
    private final Clock clock;
    private final SecureRandom random;
    private final TrentProperties.Webhooks settings;
    private final RetrySchedule schedule;
    private final CloseableHttpClient http;
    private final ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "webhook-deadlines");
        t.setDaemon(true);
        return t;
    });
    private final TransactionTemplate tx;
    private final WebhookMetrics metrics;
    private final Semaphore wakeups = new Semaphore(0);
    private final Semaphore slots;
    private final Set<Long> inFlight = ConcurrentHashMap.newKeySet();
    /** Requests being sent, aborted at shutdown (blocking socket I/O ignores interrupts). */
    private final Set<HttpPost> sending = ConcurrentHashMap.newKeySet();
    private volatile boolean running;
    private volatile boolean backlog;
    private ThreadPoolExecutor senders;
    private Thread poller;

    WebhookDispatcher(JdbcTemplate jdbc, SecretBox secrets, AddressPolicy addresses, Clock clock, SecureRandom random,
            TrentProperties properties, PlatformTransactionManager transactions, WebhookMetrics metrics) {
        this.jdbc = jdbc;
        this.metrics = metrics;
        this.tx = new TransactionTemplate(transactions);
        this.secrets = secrets;
        this.addresses = addresses;
        this.clock = clock;
        this.random = random;
        this.settings = properties.webhooks();
        this.schedule = RetrySchedule.of(settings);
        this.slots = new Semaphore(settings.senders());
        this.http = client(settings, addresses);
    }

    /** An address refused by the policy at connection time (the resolver's only way to say so). */
    static final class RefusedAddressException extends UnknownHostException {
        RefusedAddressException(String message) {
            super(message);
        }
    }

    /**
     * Apache HttpClient 5 rather than the JDK's: its {@link DnsResolver} lets the connection go to
     * the addresses {@link AddressPolicy} checked (the JDK client resolves again by itself), while
     * TLS SNI and host name verification stay on the URL's name. HTTP/1.1, no redirects, no
     * retries, no cookies; connect and read (per socket read) timeouts; at most
     * {@code per-endpoint-concurrency} connections per endpoint, pooled.
     */
    static CloseableHttpClient client(TrentProperties.Webhooks settings, AddressPolicy addresses) {
        DnsResolver checked = new DnsResolver() {
            @Override
            public InetAddress[] resolve(String host) throws UnknownHostException {
                try {
                    return addresses.resolveForConnecting(host);
                } catch (AddressPolicy.RefusedException e) {
                    throw new RefusedAddressException(e.getMessage());
                }
            }

            @Override
            public String resolveCanonicalHostname(String host) throws UnknownHostException {
                return host;
            }
        };
        SSLContext tls;
        try {
            tls = SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        PoolingHttpClientConnectionManager connections = PoolingHttpClientConnectionManagerBuilder.create()
                .setDnsResolver(checked)
                .setTlsSocketStrategy(ClientTlsStrategyBuilder.create().setSslContext(tls).buildClassic())
                .setDefaultConnectionConfig(ConnectionConfig.custom()
                        .setConnectTimeout(Timeout.of(settings.connectTimeout()))
                        .setSocketTimeout(Timeout.of(settings.readTimeout()))
                        .setTimeToLive(TimeValue.ofMinutes(1)).build())
                .setMaxConnTotal(settings.senders())
                .setMaxConnPerRoute(Math.min(settings.senders(), settings.perEndpointConcurrency()))
                .build();
        return HttpClients.custom().setConnectionManager(connections)
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setConnectionRequestTimeout(Timeout.of(settings.connectTimeout()))
                        .setResponseTimeout(Timeout.of(settings.readTimeout())).build())
                .disableRedirectHandling().disableAutomaticRetries().disableCookieManagement()
                .disableAuthCaching().disableContentCompression().setUserAgent("Trent-Webhooks")
                .evictExpiredConnections().evictIdleConnections(TimeValue.ofSeconds(30)).build();
    }

    /** A claimed delivery, with what sending it needs. */
    private record Claim(long id, long endpointId, String messageId, String payload, int attempts, Instant createdAt,
            String url, byte[] sealedSecret) {
    }

    /** Poll now (e.g. after a commit that wrote deliveries). */
    void wake() {
        if (wakeups.availablePermits() == 0) {
            wakeups.release();
        }
    }

    /** Poll once the current transaction commits (at once without one). */
    void wakeAfterCommit() {
        if (TransactionSynchronizationManager.isSynchronizationActive()) {
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCommit() {
                    wake();
                }
            });
        } else {
            wake();
        }
    }

    @Override
    public void start() {
        AtomicInteger n = new AtomicInteger();
        senders = new ThreadPoolExecutor(settings.senders(), settings.senders(), 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "webhook-sender-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        senders.allowCoreThreadTimeOut(true);
        running = true;
        poller = new Thread(this::run, "webhook-dispatcher");
        poller.setDaemon(true);
        poller.start();
    }

    @Override
    public void stop() {
        running = false;
        if (poller != null) {
            poller.interrupt();
            try {
                poller.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (senders != null) {
            senders.shutdown();
            try {
                if (!senders.awaitTermination(5, TimeUnit.SECONDS)) {
                    senders.shutdownNow();
                    sending.forEach(HttpPost::cancel);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                senders.shutdownNow();
            }
        }
        // Attempts that did not finish: give their lease back, so that another instance (or this
        // one after a restart) retries them now rather than when the lease runs out.
        List<Long> unfinished = List.copyOf(inFlight);
        if (!unfinished.isEmpty()) {
            try {
                jdbc.update("update webhook_delivery set locked_until = null where id = any (?) and status = "
                        + "'PENDING'", (Object) unfinished.toArray(Long[]::new));
            } catch (RuntimeException e) {
                log.warn("Could not release the lease of {} webhook deliveries at shutdown; they are retried when "
                        + "their lease ends: {}", unfinished.size(), e.toString());
            }
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    private void run() {
        while (running) {
            try {
                if (!backlog) {
                    wakeups.tryAcquire(settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
                }
                wakeups.drainPermits();
                if (running) {
                    dispatchDue();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // The database may be briefly unreachable; the next poll tries again.
                log.warn("Webhook dispatch failed, retrying at the next poll: {}", e.toString());
                backlog = false;
            }
        }
    }

    private void dispatchDue() throws InterruptedException {
        int free = slots.availablePermits();
        if (free == 0) {
            backlog = false; // a sender that finishes wakes us
            return;
        }
        List<Claim> claims = claim(free);
        backlog = claims.size() == free;
        for (Claim c : claims) {
            slots.acquire();
            inFlight.add(c.id());
            try {
                senders.execute(() -> {
                    try {
                        attempt(c);
                    } catch (RuntimeException e) {
                        log.warn("Webhook delivery {} could not be recorded; retried when its lease ends: {}", c.id(),
                                e.toString());
                    } finally {
                        inFlight.remove(c.id());
                        slots.release();
                        wake();
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                inFlight.remove(c.id());
                slots.release();
            }
        }
    }

    private List<Claim> claim(int limit) {
        Timestamp now = Timestamp.from(clock.instant());
        Timestamp until = Timestamp.from(clock.instant().plus(settings.lease()));
        return bookkeeping(() -> jdbc.query("""
                update webhook_delivery d
                set locked_until = ?, attempts = d.attempts + 1, last_attempt_at = ?
                from webhook_endpoint e
                where e.id = d.endpoint_id and d.id in (
                    select c.id from webhook_endpoint e2 cross join lateral (
                        select x.id from webhook_delivery x
                        where x.endpoint_id = e2.id and x.status = 'PENDING' and x.next_attempt_at <= ?
                          and (x.locked_until is null or x.locked_until <= ?)
                        order by x.next_attempt_at, x.id
                        limit greatest(0, ? - (select count(*) from webhook_delivery f where f.endpoint_id = e2.id
                                                and f.status = 'PENDING' and f.locked_until > ?))
                        for update skip locked) c
                    where e2.secret_key_id = ?
                    limit ?)
                returning d.id, d.endpoint_id, d.message_id, d.payload::text, d.attempts, d.created_at, e.url,
                          e.secret_sealed
                """, (rs, n) -> new Claim(rs.getLong(1), rs.getLong(2), rs.getString(3), rs.getString(4),
                        rs.getInt(5), rs.getTimestamp(6).toInstant(), rs.getString(7), rs.getBytes(8)),
                until, now, now, now, settings.perEndpointConcurrency(), now, secrets.keyId(), limit));
    }

    /**
     * The dispatcher's own writes (claims, outcomes) commit without waiting for the WAL flush
     * ({@code synchronous_commit = off}, for these transactions only): were PostgreSQL to crash
     * within the fraction of a second before the flush, the worst outcome is a webhook sent
     * again, which at-least-once delivery allows; the outbox rows themselves are written in the
     * certificate change's transaction, with its durability. Saves a flush per claim and per
     * outcome, which the enrollments sharing the database would otherwise wait behind.
     */
    private <T> T bookkeeping(java.util.function.Supplier<T> work) {
        return tx.execute(status -> {
            jdbc.execute("set local synchronous_commit = off");
            return work.get();
        });
    }

    private void attempt(Claim c) {
        byte[] secret;
        try {
            secret = secrets.open(c.sealedSecret(), WebhookService.sealContext(c.endpointId()));
        } catch (GeneralSecurityException e) {
            failed(c, null, "the endpoint's secret cannot be opened with this instance's webhook key", null);
            return;
        }
        URI uri = URI.create(c.url());
        try {
            addresses.checkBeforeSending(uri);
        } catch (AddressPolicy.RefusedException e) {
            failed(c, null, "refused: " + e.getMessage(), null);
            return;
        } catch (UnknownHostException e) {
            failed(c, null, "unknown host " + uri.getHost(), null);
            return;
        }
        byte[] body = c.payload().getBytes(StandardCharsets.UTF_8);
        long timestamp = clock.instant().getEpochSecond();
        HttpPost request = new HttpPost(uri);
        request.setHeader("webhook-id", c.messageId());
        request.setHeader("webhook-timestamp", Long.toString(timestamp));
        request.setHeader("webhook-signature", WebhookSignature.sign(secret, c.messageId(), timestamp, body));
        request.setEntity(new ByteArrayEntity(body, ContentType.create("application/json")));
        // The timeouts bound connecting and each read; a receiver that trickles its answer is cut
        // off here, so an attempt as a whole takes at most connect-timeout + read-timeout, less
        // than the lease (else the delivery would be claimed and sent again meanwhile). Cancelling
        // aborts the request and closes its connection.
        Duration deadline = settings.connectTimeout().plus(settings.readTimeout());
        AtomicBoolean cutOff = new AtomicBoolean();
        ScheduledFuture<?> timer = deadlines.schedule(() -> {
            cutOff.set(true);
            request.cancel();
        }, deadline.toMillis(), TimeUnit.MILLISECONDS);
        int status;
        Duration retryAfter;
        sending.add(request);
        try {
            Object[] answer = http.execute(request, response -> {
                EntityUtils.consume(response.getEntity()); // read (up to the deadline) so the connection is reused
                return new Object[] {response.getCode(), retryAfter(response)};
            });
            status = (Integer) answer[0];
            retryAfter = (Duration) answer[1];
        } catch (RefusedAddressException e) {
            failed(c, null, "refused: " + e.getMessage(), null);
            return;
        } catch (UnknownHostException e) {
            failed(c, null, "unknown host " + uri.getHost(), null);
            return;
        } catch (IOException e) {
            if (cutOff.get()) {
                failed(c, null, "timed out (no complete answer within " + deadline.toMillis() + " ms)", null);
            } else if (e instanceof ConnectTimeoutException) {
                failed(c, null, "timed out (connect)", null);
            } else if (e instanceof java.net.SocketTimeoutException) {
                failed(c, null, "timed out (response)", null);
            } else if (Thread.currentThread().isInterrupted()) {
                return; // shutting down: the lease is given back in stop()
            } else {
                failed(c, null, shortError(e), null);
            }
            return;
        } finally {
            timer.cancel(false);
            sending.remove(request);
        }
        if (status >= 200 && status < 300) {
            bookkeeping(() -> jdbc.update("update webhook_delivery set status = 'DELIVERED', delivered_at = ?, "
                    + "next_attempt_at = null, locked_until = null, last_status = ?, last_error = null where id = ? "
                    + "and status = 'PENDING'", Timestamp.from(clock.instant()), status, c.id()));
            metrics.delivered();
            log.debug("Webhook {} delivered to endpoint {} (HTTP {}, attempt {})", c.messageId(), c.endpointId(),
                    status, c.attempts());
            return;
        }
        failed(c, status, "HTTP " + status, retryAfter);
    }

    private void failed(Claim c, Integer status, String error, Duration retryAfter) {
        Instant now = clock.instant();
        String shortened = error.length() > 300 ? error.substring(0, 297) + "..." : error;
        Optional<Instant> next = schedule.next(c.createdAt(), c.attempts(), now, retryAfter, random.nextDouble());
        if (next.isPresent()) {
            bookkeeping(() -> jdbc.update("update webhook_delivery set next_attempt_at = ?, locked_until = null, "
                    + "last_status = ?, last_error = ? where id = ? and status = 'PENDING'",
                    Timestamp.from(next.get()), status, shortened, c.id()));
            metrics.failed();
            log.debug("Webhook {} to endpoint {} failed (attempt {}: {}); next attempt at {}", c.messageId(),
                    c.endpointId(), c.attempts(), shortened, next.get());
        } else {
            bookkeeping(() -> jdbc.update("update webhook_delivery set status = 'FAILED', next_attempt_at = null, "
                    + "locked_until = null, last_status = ?, last_error = ? where id = ? and status = 'PENDING'",
                    status, shortened, c.id()));
            metrics.givenUp();
            log.warn("Webhook {} to endpoint {} given up after {} attempts since {} (last: {})", c.messageId(),
                    c.endpointId(), c.attempts(), c.createdAt(), shortened);
        }
    }

    /** {@code Retry-After} in seconds (RFC 9110 10.2.3); an HTTP-date is ignored. */
    private static Duration retryAfter(ClassicHttpResponse response) {
        Header h = response.getFirstHeader("Retry-After");
        return Optional.ofNullable(h).map(Header::getValue).map(String::strip).filter(v -> v.matches("\\d{1,9}"))
                .map(v -> Duration.ofSeconds(Long.parseLong(v))).orElse(null);
    }

    private static String shortError(IOException e) {
        String name = e.getClass().getSimpleName();
        String message = e.getMessage();
        if (e instanceof java.net.ConnectException && (message == null || message.isBlank())) {
            return "connection refused";
        }
        return message == null || message.isBlank() ? name : name + ": " + message.toLowerCase(Locale.ROOT);
    }
}
