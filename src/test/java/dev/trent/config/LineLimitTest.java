package dev.trent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class LineLimitTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void admitWhenOverTheSecondsLimitThenCountedAndReportedOnTheNextLineWritten() {
        AtomicLong now = new AtomicLong(-7 * SECOND + 123); // nanoTime may be negative
        LineLimit limit = new LineLimit(3, now::get);
        assertThat(limit.admit()).isZero();
        assertThat(limit.admit()).isZero();
        assertThat(limit.admit()).isZero();
        assertThat(limit.admit()).as("the fourth line in the same second").isEqualTo(-1);
        now.addAndGet(SECOND / 2);
        assertThat(limit.admit()).as("still the same second").isEqualTo(-1);
        now.addAndGet(SECOND / 2);
        assertThat(limit.admit()).as("the next second: two were dropped before it").isEqualTo(2);
        assertThat(limit.admit()).isZero();
        now.addAndGet(10 * SECOND);
        for (int i = 0; i < 3; i++) {
            assertThat(limit.admit()).isZero();
        }
        assertThat(limit.admit()).isEqualTo(-1);
    }
}
