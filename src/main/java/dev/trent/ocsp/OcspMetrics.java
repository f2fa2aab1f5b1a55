package dev.trent.ocsp;

import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code trent.ocsp.requests}: OCSP responses, tagged {@code status} and {@code cache}. Every
 * combination is registered at start and held in an array, so counting on the hot path is an
 * index and an add (no lookup, no allocation).
 */
@Component
class OcspMetrics {

    /**
     * What a response said: the certificate status of a successful response (with several
     * certificates: revoked if any is, else unknown if any is, else good), or the OCSP error status.
     */
    enum Status {
        GOOD("good"), REVOKED("revoked"), UNKNOWN("unknown"), MALFORMED("malformed"), UNAUTHORIZED("unauthorized"),
        TRY_LATER("tryLater"), INTERNAL_ERROR("internalError");

        final String tag;

        Status(String tag) {
            this.tag = tag;
        }

        /** The status of an OCSPResponse without a body (RFC 6960 4.2.1 OCSPResponseStatus). */
        static Status of(int ocspResponseStatus) {
            return switch (ocspResponseStatus) {
                case OCSPRespBuilder.MALFORMED_REQUEST -> MALFORMED;
                case OCSPRespBuilder.UNAUTHORIZED -> UNAUTHORIZED;
                case OCSPRespBuilder.TRY_LATER -> TRY_LATER;
                default -> INTERNAL_ERROR;
            };
        }
    }

    /**
     * hit: a pre-signed answer from the cache; miss: a nonce-less one-certificate request signed
     * now (and cached); bypass: not cacheable (a nonce, several certificates, or an error).
     */
    enum Cache {
        HIT("hit"), MISS("miss"), BYPASS("bypass");

        final String tag;

        Cache(String tag) {
            this.tag = tag;
        }
    }

    private static final int CACHES = Cache.values().length;

    private final Counter[] counters = new Counter[Status.values().length * CACHES];

    OcspMetrics(MeterRegistry registry) {
        for (Status s : Status.values()) {
            for (Cache c : Cache.values()) {
                counters[s.ordinal() * CACHES + c.ordinal()] = Counter.builder("trent.ocsp.requests")
                        .description("OCSP responses by status and pre-signed cache use").tag("status", s.tag)
                        .tag("cache", c.tag).register(registry);
            }
        }
    }

    void record(Status status, Cache cache) {
        counters[status.ordinal() * CACHES + cache.ordinal()].increment();
    }
}
