package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Instants from requests: the two forms, PostgreSQL's range, and errors naming the parameter. */
class RequestInstantsTest {

    @Test
    void instantWhenIsoThenParsedAndNullStaysNull() {
        assertThat(RequestInstants.instant("at", "2027-01-01T00:00:00Z", "x")).isEqualTo(Instant.ofEpochSecond(1798761600));
        assertThat(RequestInstants.instant("at", null, "x")).isNull();
        assertThat(RequestInstants.dateOrInstant("at", "2027-01-01", "x")).isEqualTo(Instant.ofEpochSecond(1798761600));
        assertThat(RequestInstants.dateOrInstant("at", "2027-01-01T00:00:01Z", "x"))
                .isEqualTo(Instant.ofEpochSecond(1798761601));
        assertThat(RequestInstants.dateOrInstant("at", null, "x")).isNull();
    }

    @Test
    void instantWhenAtPostgresqlsBoundsThenAcceptedAndJustOutsideThenRefused() {
        Instant earliest = RequestInstants.instant("at", "-4712-11-24T00:00:00Z", "x");
        Instant latest = RequestInstants.instant("at", "+294276-12-31T23:59:59.999999Z", "x");
        assertThat(RequestInstants.storable("at", earliest)).isEqualTo(RequestInstants.EARLIEST);
        assertThat(RequestInstants.storable("at", latest)).isEqualTo(RequestInstants.LATEST);
        assertThat(RequestInstants.storable("at", null)).isNull();
        for (String outside : new String[] {"-4712-11-23T23:59:59.999999Z", "+294277-01-01T00:00:00Z",
                "+1000000000-12-31T23:59:59Z", "-1000000000-01-01T00:00:00Z"}) {
            Instant parsed = RequestInstants.instant("expiringBefore", outside, "x");
            assertThatThrownBy(() -> RequestInstants.storable("expiringBefore", parsed))
                    .isInstanceOf(ProblemException.class).hasMessage("expiringBefore is outside the range of dates "
                            + "Trent can store (years 4713 BC to 294276 AD).");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2027-13-01T00:00:00Z", "2027-01-01", "tomorrow", "2027-01-01T00:00:00"})
    void instantWhenNotIsoThenRefusedNamingTheParameterAndAnExample(String text) {
        assertThatThrownBy(() -> RequestInstants.instant("expiringBefore", text, "2027-01-01T00:00:00Z"))
                .isInstanceOf(ProblemException.class)
                .hasMessage("expiringBefore must be an ISO-8601 instant such as 2027-01-01T00:00:00Z.");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "2027-02-30", "27-01-01", "2027-01-01T25:00:00Z"})
    void dateOrInstantWhenNeitherThenRefusedNamingTheParameterAndAnExample(String text) {
        assertThatThrownBy(() -> RequestInstants.dateOrInstant("invalidityDate", text, "2026-11-20"))
                .isInstanceOf(ProblemException.class)
                .hasMessage("invalidityDate must be a date such as 2026-11-20 or an ISO-8601 instant.");
    }
}
