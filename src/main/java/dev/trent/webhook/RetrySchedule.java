package dev.trent.webhook;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import dev.trent.config.TrentProperties;

/**
 * When a failed delivery is tried next, or that it is given up. Exponential backoff from
 * {@code initialDelay}, doubling per attempt, at most {@code maxDelay} apart while the delivery
 * is younger than {@code fastPeriod}, then {@code slowDelay} apart; a last attempt at
 * {@code giveUpAfter} (so retries span at least that long), after which it has failed. Standard
 * Webhooks recommends "a retry schedule spanning multiple days, with an exponential backoff" and
 * "some level of random jitter": up to a tenth of the delay is added, from {@code jitter}, before the
 * cap, so that gaps never exceed {@code maxDelay} (or {@code slowDelay}).
 *
 * @see <a href="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#deliverability-and-reliability">Standard Webhooks, Deliverability and reliability</a>
 */
record RetrySchedule(Duration initialDelay, Duration maxDelay, Duration fastPeriod, Duration slowDelay,
        Duration giveUpAfter) {

    static RetrySchedule of(TrentProperties.Webhooks w) {
        return new RetrySchedule(w.retryInitialDelay(), w.retryMaxDelay(), w.retryFastPeriod(), w.retrySlowDelay(),
                w.giveUpAfter());
    }

    /**
     * @param createdAt when the delivery was written (the event)
     * @param attempts  attempts made so far, the failed one included (1 after the first)
     * @param now       when the failed attempt ended
     * @param retryAfter the receiver's {@code Retry-After}, if it sent one
     * @param jitter    a fraction in [0, 1) of a tenth of the delay to add
     * @return the next attempt's time, or empty: give up
     */
    Optional<Instant> next(Instant createdAt, int attempts, Instant now, Duration retryAfter, double jitter) {
        Instant deadline = createdAt.plus(giveUpAfter);
        if (!now.isBefore(deadline)) {
            return Optional.empty();
        }
        Duration cap = now.isBefore(createdAt.plus(fastPeriod)) ? maxDelay : slowDelay;
        Duration delay = initialDelay;
        for (int i = 1; i < attempts && delay.compareTo(cap) < 0; i++) {
            delay = delay.multipliedBy(2);
        }
        // Jitter first, then the cap: a capped delay stays at most the cap apart (no jitter is
        // left once the backoff has reached it, but the cap is what operators were promised).
        delay = delay.plusMillis((long) (delay.toMillis() * 0.1 * jitter));
        if (delay.compareTo(cap) > 0) {
            delay = cap;
        }
        if (retryAfter != null && retryAfter.compareTo(delay) > 0) {
            delay = retryAfter.compareTo(slowDelay) > 0 ? slowDelay : retryAfter;
        }
        Instant next = now.plus(delay);
        return Optional.of(next.isAfter(deadline) ? deadline : next);
    }
}
