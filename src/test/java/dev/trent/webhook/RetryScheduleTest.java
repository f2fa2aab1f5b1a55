package dev.trent.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

class RetryScheduleTest {

    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private final RetrySchedule defaults = new RetrySchedule(Duration.ofSeconds(5), Duration.ofMinutes(1),
            Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(24));

    @Test
    void nextWhenFailingFromTheStartThenDoublesFromFiveSecondsToAMinuteThenHourlyUntilTwentyFourHours() {
        List<Duration> gaps = new ArrayList<>();
        Instant now = T0;
        int attempts = 1;
        Optional<Instant> next;
        while ((next = defaults.next(T0, attempts, now, null, 0)).isPresent()) {
            gaps.add(Duration.between(now, next.get()));
            now = next.get();
            attempts++;
        }
        assertThat(gaps.subList(0, 6)).containsExactly(Duration.ofSeconds(5), Duration.ofSeconds(10),
                Duration.ofSeconds(20), Duration.ofSeconds(40), Duration.ofMinutes(1), Duration.ofMinutes(1));
        Instant fastEnd = T0.plus(Duration.ofHours(1));
        Instant t = T0;
        for (Duration gap : gaps) {
            if (t.isBefore(fastEnd)) {
                assertThat(gap).as("at most a minute apart in the first hour").isLessThanOrEqualTo(Duration.ofMinutes(1));
            } else {
                assertThat(gap).isLessThanOrEqualTo(Duration.ofHours(1));
            }
            t = t.plus(gap);
        }
        assertThat(now).as("the last attempt is at the deadline").isEqualTo(T0.plus(Duration.ofHours(24)));
        assertThat(gaps.get(gaps.size() - 2)).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void nextWhenJitterThenAtMostATenthLonger() {
        assertThat(defaults.next(T0, 1, T0, null, 0.999).orElseThrow()).isBetween(T0.plusSeconds(5),
                T0.plusMillis(5500));
    }

    @Test
    void nextWhenJitterAtTheCapThenStillAtMostTheCapApart() {
        Instant fastEnd = T0.plus(Duration.ofHours(1));
        Instant now = T0;
        int attempts = 1;
        while (now.isBefore(fastEnd)) {
            Instant next = defaults.next(T0, attempts, now, null, 0.999).orElseThrow();
            if (now.isBefore(fastEnd)) {
                assertThat(Duration.between(now, next)).as("attempt " + attempts + " at " + now)
                        .isLessThanOrEqualTo(Duration.ofMinutes(1));
            }
            now = next;
            attempts++;
        }
        Instant late = T0.plus(Duration.ofHours(2));
        assertThat(defaults.next(T0, 30, late, null, 0.999)).contains(late.plus(Duration.ofHours(1)));
    }

    @Test
    void nextWhenRetryAfterLongerThanBackoffThenHonouredUpToTheSlowDelay() {
        assertThat(defaults.next(T0, 1, T0, Duration.ofSeconds(30), 0)).contains(T0.plusSeconds(30));
        assertThat(defaults.next(T0, 1, T0, Duration.ofDays(3), 0)).contains(T0.plus(Duration.ofHours(1)));
        assertThat(defaults.next(T0, 1, T0, Duration.ofSeconds(1), 0)).contains(T0.plusSeconds(5));
    }

    @Test
    void nextWhenAtOrPastGiveUpAfterThenEmpty() {
        assertThat(defaults.next(T0, 40, T0.plus(Duration.ofHours(24)), null, 0)).isEmpty();
        assertThat(defaults.next(T0, 40, T0.plus(Duration.ofHours(23).plusMinutes(30)), null, 0))
                .contains(T0.plus(Duration.ofHours(24)));
    }
}
