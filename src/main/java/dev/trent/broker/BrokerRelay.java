package dev.trent.broker;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.EventListener;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.transaction.event.TransactionPhase;
import org.springframework.transaction.event.TransactionalEventListener;

import dev.trent.config.TrentProperties;
import dev.trent.inventory.CertificateEvent;

/**
 * Keeps Mosquitto's dynsec clients in step with the inventory.
 *
 * <ul>
 * <li><b>Outbox.</b> Every {@link CertificateEvent} (issued, renewed, revoked, held, unheld)
 * upserts its device's row in {@code broker_sync} inside the change's own transaction, so the
 * change and the need to sync commit or roll back together; after the commit the relay is woken
 * (other instances find the row within {@code poll-interval}).</li>
 * <li><b>Relay.</b> One thread per instance claims due rows ({@code FOR UPDATE SKIP LOCKED} and a
 * lease: one instance per device at a time), reads the device's state from the inventory
 * <em>after</em> the claim, makes the broker match ({@link DeviceClients}), and deletes the row
 * only if no change came in meanwhile. A failure (broker down, an error answer, no answer) keeps
 * the row with a backoff of 1 s doubling to {@link #MAX_BACKOFF}; while the connection is down
 * nothing is claimed, so nothing backs off during an outage.</li>
 * <li><b>Reconciliation.</b> Every {@code reconcile-interval}, and each time the connection
 * comes (back) up, one instance (a PostgreSQL advisory lock) lists the broker's clients and
 * queues every device that differs: a valid device without a complete client, a managed client
 * without a valid device (expired certificates, a broker restored from an old backup, clients
 * added by hand). It only queues; the relay decides from the inventory as it is then, so a
 * reconciliation cannot undo a revocation made while it ran.</li>
 * </ul>
 */
final class BrokerRelay implements SmartLifecycle {

    static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final Duration LEASE = Duration.ofMinutes(2);
    /** How often certificates that expired since the last look are queued (an expiry has no event). */
    static final Duration EXPIRY_CHECK = Duration.ofSeconds(5);
    /** Devices per round: one message of commands, so an urgent row waits for at most one such message. */
    private static final int BATCH = 50;

    private static final Logger log = LoggerFactory.getLogger(BrokerRelay.class);

    private final TrentProperties.Mosquitto settings;
    private final BrokerOutbox outbox;
    private final TransactionTemplate tx;
    private final String instance = "trent-" + UUID.randomUUID().toString().substring(0, 8);
    private final Semaphore wake = new Semaphore(0);
    private final DynsecConnection broker;
    private final DeviceClients clients;
    private volatile boolean running;
    private volatile boolean reconcileWanted;
    private Thread thread;

    BrokerRelay(TrentProperties.Mosquitto settings, BrokerOutbox outbox, TransactionTemplate tx) {
        this.settings = settings;
        this.outbox = outbox;
        this.tx = tx;
        this.broker = new DynsecConnection(settings, this::brokerReady);
        this.clients = new DeviceClients(broker, settings);
    }

    /**
     * Inside the change's transaction: notes the device, and upserts the rows of every device
     * the transaction touched just before it commits, in device id order. Row locks on
     * {@code broker_sync} are so taken last (after the issuer row a revocation locks) and in one
     * order by every transaction: two bulk revocations that touch the same devices in different
     * orders cannot deadlock on them.
     */
    @EventListener
    void onCertificateChange(CertificateEvent event) {
        boolean urgent = event.type() == CertificateEvent.Type.REVOKED || event.type() == CertificateEvent.Type.HELD;
        if (!settings.profiles().contains(event.profile())) {
            return; // a profile the broker does not get
        }
        String deviceId = event.deviceId();
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            outbox.enqueueDevices(new java.util.TreeMap<>(java.util.Map.of(deviceId, urgent)));
            return;
        }
        @SuppressWarnings("unchecked")
        java.util.SortedMap<String, Boolean> pending = (java.util.SortedMap<String, Boolean>)
                TransactionSynchronizationManager.getResource(pendingKey);
        if (pending == null) {
            java.util.SortedMap<String, Boolean> devices = new java.util.TreeMap<>();
            TransactionSynchronizationManager.bindResource(pendingKey, devices);
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void beforeCommit(boolean readOnly) {
                    outbox.enqueueDevices(devices);
                }

                @Override
                public void afterCompletion(int status) {
                    TransactionSynchronizationManager.unbindResourceIfPossible(pendingKey);
                }
            });
            pending = devices;
        }
        pending.merge(deviceId, urgent, Boolean::logicalOr);
    }

    /** The transaction resource key of the devices a transaction touched. */
    private final Object pendingKey = new Object();

    /** After the commit: no need to wait for the next poll on this instance. */
    @TransactionalEventListener(phase = TransactionPhase.AFTER_COMMIT)
    void afterCommit(CertificateEvent event) {
        wake.release();
    }

    private void brokerReady() {
        reconcileWanted = true;
        wake.release();
    }

    DynsecConnection connection() {
        return broker;
    }

    BrokerOutbox.Backlog backlog() {
        return outbox.backlog();
    }

    @Override
    public void start() {
        running = true;
        thread = new Thread(this::loop, "mosquitto-relay");
        thread.setDaemon(true);
        thread.start();
        broker.start();
        log.info("Mosquitto sync on: {} as {}, device role {}{}, profiles {}", settings.url(), settings.username(),
                settings.deviceRole(), settings.deviceGroup() == null ? "" : ", group " + settings.deviceGroup(),
                settings.profiles());
    }

    @Override
    public void stop() {
        running = false;
        wake.release();
        if (thread != null) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        broker.close();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    private void loop() {
        long lastReconcile = System.nanoTime();
        java.time.Instant expiredUntil = outbox.now();
        while (running) {
            try {
                wake.tryAcquire(settings.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
                wake.drainPermits();
                if (!running || !broker.ready()) {
                    continue;
                }
                if (System.nanoTime() - lastReconcile >= settings.reconcileInterval().toNanos()) {
                    reconcileWanted = true;
                }
                if (reconcileWanted) {
                    reconcileWanted = false;
                    lastReconcile = System.nanoTime();
                    reconcile();
                }
                java.time.Instant now = outbox.now();
                if (Duration.between(expiredUntil, now).compareTo(EXPIRY_CHECK) >= 0) {
                    queueExpired(expiredUntil, now);
                    expiredUntil = now;
                }
                while (running && broker.ready() && relayOnce() == BATCH) {
                    // a full batch: more may be due
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // PostgreSQL unreachable and the like: rows stay, next round retries.
                log.warn("Mosquitto relay round failed: {}", e.toString());
            }
        }
    }

    /**
     * One batch of due devices; returns how many were claimed. The devices' states are read in
     * one query, and the broker is asked with one message per kind of command (createClient for
     * those with access, getClient then deleteClient for the others).
     */
    int relayOnce() {
        List<BrokerOutbox.Claim> claims = outbox.claim(instance, BATCH, LEASE);
        if (claims.isEmpty()) {
            return 0;
        }
        Set<String> valid = outbox.withValidCertificate(claims.stream().map(BrokerOutbox.Claim::deviceId).toList());
        List<String> present = claims.stream().map(BrokerOutbox.Claim::deviceId).filter(valid::contains).toList();
        List<String> absent = claims.stream().map(BrokerOutbox.Claim::deviceId).filter(d -> !valid.contains(d)).toList();
        Map<String, String> failed = new HashMap<>();
        try {
            failed.putAll(clients.ensureAllPresent(present));
        } catch (DynsecException e) {
            present.forEach(d -> failed.put(d, e.getMessage()));
        }
        try {
            failed.putAll(clients.ensureAllAbsent(absent));
        } catch (DynsecException e) {
            absent.forEach(d -> failed.put(d, e.getMessage()));
        }
        for (String d : absent) {
            if (!failed.containsKey(d)) {
                log.info("Mosquitto: {} has no valid certificate; its access is removed", d);
            }
        }
        List<BrokerOutbox.Claim> done = claims.stream().filter(c -> !failed.containsKey(c.deviceId())).toList();
        tx.executeWithoutResult(status -> outbox.doneAll(instance, done));
        for (BrokerOutbox.Claim claim : claims) {
            String error = failed.get(claim.deviceId());
            if (error != null) {
                Duration backoff = backoff(claim.attempts());
                log.warn("Mosquitto: sync of {} failed ({}); retrying in {}", claim.deviceId(), error, backoff);
                outbox.failed(instance, claim, backoff, error);
            }
        }
        return claims.size();
    }

    /** Devices whose certificate expired in {@code (from, to]}: queued, so their access goes within {@link #EXPIRY_CHECK}. */
    void queueExpired(java.time.Instant from, java.time.Instant to) {
        Set<String> expired = outbox.devicesExpiredBetween(from, to);
        if (!expired.isEmpty()) {
            outbox.enqueueIfAbsent(expired);
            log.info("Mosquitto: {} device certificate(s) expired; their devices are queued for a sync", expired.size());
        }
    }

    static Duration backoff(int attempts) {
        long seconds = 1L << Math.min(attempts, 10);
        return seconds > MAX_BACKOFF.toSeconds() ? MAX_BACKOFF : Duration.ofSeconds(seconds);
    }

    /** Lists the broker's clients and queues every device that differs from the inventory. */
    void reconcile() {
        Integer queued = tx.execute(status -> {
            if (!outbox.tryReconcileLock()) {
                return null;
            }
            List<DeviceClients.BrokerClient> onBroker;
            try {
                onBroker = clients.list();
            } catch (DynsecException e) {
                log.warn("Mosquitto reconciliation could not list clients: {}", e.getMessage());
                return null;
            }
            Set<String> valid = outbox.devicesWithValidCertificate();
            Map<String, DeviceClients.BrokerClient> byName = new HashMap<>();
            onBroker.forEach(c -> byName.put(c.username(), c));
            Set<String> differ = new HashSet<>();
            for (String device : valid) {
                DeviceClients.BrokerClient c = byName.get(device);
                if (!clients.isAdmin(device) && (c == null || !clients.complete(c))) {
                    differ.add(device);
                }
            }
            for (DeviceClients.BrokerClient c : onBroker) {
                if (clients.managed(c) && !valid.contains(c.username())) {
                    differ.add(c.username());
                }
            }
            outbox.enqueueIfAbsent(differ);
            return differ.size();
        });
        if (queued != null && queued > 0) {
            log.info("Mosquitto reconciliation: {} device(s) differ from the inventory; queued", queued);
        }
    }
}
