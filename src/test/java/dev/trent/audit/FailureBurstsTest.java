package dev.trent.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Burst counting per address and credential kind, on a clock the test moves. */
class FailureBurstsTest {

    /** A clock that stands still until the test moves it. */
    static final class MovableClock extends Clock {
        private Instant now = Instant.parse("2026-03-01T10:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    record Event(String actor, String subject, Map<String, Object> details) {
    }

    /** The audit log as a list: what would have been recorded. */
    static final class RecordingAuditLog extends AuditLog {
        final List<Event> events = new ArrayList<>();

        RecordingAuditLog(Clock clock) {
            super(null, clock, new org.springframework.jdbc.support.JdbcTransactionManager());
        }

        @Override
        public void recordStandalone(String actor, String action, String subject, Map<String, ?> details) {
            assertThat(action).isEqualTo("auth.failure-burst");
            events.add(new Event(actor, subject, Map.copyOf(details)));
        }
    }

    private final MovableClock clock = new MovableClock();
    private final RecordingAuditLog audit = new RecordingAuditLog(clock);
    private final FailureBursts bursts = new FailureBursts(audit, clock, 3);

    @Test
    void failedWhenThresholdReachedWithinWindowThenExactlyOneEvent() {
        Instant start = clock.instant();
        for (int i = 0; i < 5; i++) {
            bursts.failed("192.0.2.7", "api-key");
            clock.advance(Duration.ofSeconds(10));
        }

        assertThat(audit.events).hasSize(1);
        Event e = audit.events.get(0);
        assertThat(e.actor()).isEqualTo("anonymous:192.0.2.7");
        assertThat(e.subject()).isEqualTo("192.0.2.7");
        assertThat(e.details()).containsEntry("remoteAddress", "192.0.2.7").containsEntry("credential", "api-key")
                .containsEntry("failures", 3).containsEntry("windowStart", start.toString());
    }

    @Test
    void failedWhenWindowOverThenCountingStartsAgain() {
        bursts.failed("192.0.2.7", "api-key");
        clock.advance(Duration.ofMinutes(1)); // the window's last instant: still the same window
        bursts.failed("192.0.2.7", "api-key");
        clock.advance(Duration.ofNanos(1)); // now past it
        bursts.failed("192.0.2.7", "api-key");
        bursts.failed("192.0.2.7", "api-key");
        assertThat(audit.events).as("two failures in each of two windows").isEmpty();

        Instant third = clock.instant();
        bursts.failed("192.0.2.7", "api-key");

        assertThat(audit.events).hasSize(1);
        assertThat(audit.events.get(0).details()).as("the second window started with the third failure")
                .containsEntry("windowStart", third.toString());
    }

    @Test
    void failedWhenOtherAddressOrOtherCredentialThenCountedApart() {
        bursts.failed("192.0.2.7", "api-key");
        bursts.failed("192.0.2.7", "api-key");
        bursts.failed("192.0.2.8", "api-key");
        bursts.failed("192.0.2.7", "client-certificate");
        assertThat(audit.events).isEmpty();

        bursts.failed("192.0.2.7", "api-key");

        assertThat(audit.events).extracting(Event::subject).containsExactly("192.0.2.7");
    }

    @Test
    void failedWhenTrackingLimitReachedThenNewAddressesShareOneCounterUntilWindowsEnd() {
        for (int i = 0; i < FailureBursts.MAX_TRACKED; i++) {
            bursts.failed("10.0." + (i / 256) + "." + (i % 256), "api-key");
        }
        assertThat(audit.events).isEmpty();

        // Three new addresses, one failure each: together they make the burst.
        bursts.failed("198.51.100.1", "api-key");
        bursts.failed("198.51.100.2", "api-key");
        bursts.failed("198.51.100.3", "api-key");

        assertThat(audit.events).hasSize(1);
        assertThat(audit.events.get(0).subject()).isEqualTo("many addresses");
        assertThat(audit.events.get(0).actor()).isEqualTo("anonymous:many addresses");

        // An address already tracked keeps its own counter.
        bursts.failed("10.0.0.0", "api-key");
        bursts.failed("10.0.0.0", "api-key");
        assertThat(audit.events).hasSize(2);
        assertThat(audit.events.get(1).subject()).isEqualTo("10.0.0.0");

        // Once the windows are over, their entries go and addresses are tracked one by one again.
        clock.advance(Duration.ofMinutes(2));
        for (int i = 0; i < 3; i++) {
            bursts.failed("203.0.113.9", "api-key");
        }
        assertThat(audit.events).hasSize(3);
        assertThat(audit.events.get(2).subject()).isEqualTo("203.0.113.9");
    }
}
