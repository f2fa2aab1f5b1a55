package dev.trent.crl;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The CRL meters, per issuer (tag {@code issuer}, its id), registered when this instance first
 * sees the issuer's CRL: {@code trent.crl.size} (bytes of the DER), {@code trent.crl.entries},
 * {@code trent.crl.age} (seconds since thisUpdate, read at scrape time) and
 * {@code trent.crl.generation} (time to stream the entries, encode and sign; on the instance that
 * generated it). Gauges follow the CRL stored in PostgreSQL, which every instance reads at least
 * every {@code trent.crl.batch-delay}.
 */
@Component
class CrlMetrics {

    /** The last CRL seen for one issuer; read by the gauges. */
    private static final class Current {
        volatile long sizeBytes;
        volatile int entries;
        volatile Instant thisUpdate;
        Timer generation;
    }

    private final MeterRegistry registry;
    private final Clock clock;
    private final ConcurrentHashMap<String, Current> issuers = new ConcurrentHashMap<>();

    CrlMetrics(MeterRegistry registry, Clock clock) {
        this.registry = registry;
        this.clock = clock;
    }

    void observe(String issuerId, CrlPublisher.Head head) {
        Current c = current(issuerId);
        c.sizeBytes = head.sizeBytes();
        c.entries = head.entries();
        c.thisUpdate = head.thisUpdate();
    }

    void generated(String issuerId, long nanos) {
        current(issuerId).generation.record(nanos, TimeUnit.NANOSECONDS);
    }

    private Current current(String issuerId) {
        return issuers.computeIfAbsent(issuerId, this::register);
    }

    private Current register(String issuerId) {
        Current c = new Current();
        c.thisUpdate = clock.instant();
        Gauge.builder("trent.crl.size", c, x -> x.sizeBytes).description("Size of the issuer's current CRL")
                .baseUnit("bytes").tag("issuer", issuerId).strongReference(true).register(registry);
        Gauge.builder("trent.crl.entries", c, x -> x.entries).description("Entries in the issuer's current CRL")
                .tag("issuer", issuerId).strongReference(true).register(registry);
        Gauge.builder("trent.crl.age", c, x -> Duration.between(x.thisUpdate, clock.instant()).toMillis() / 1000.0)
                .description("Seconds since thisUpdate of the issuer's current CRL").baseUnit("seconds")
                .tag("issuer", issuerId).strongReference(true).register(registry);
        c.generation = Timer.builder("trent.crl.generation").description("Time to generate and sign a CRL")
                .tag("issuer", issuerId).register(registry);
        return c;
    }
}
