package dev.trent.web;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;

/**
 * Instants from a request's parameters or body: ISO-8601 ({@code 2027-01-01T00:00:00Z}) or, where
 * a form allows it, a date ({@code 2027-01-01}, the start of that UTC day). One that goes into a
 * statement as it is (a search's bound) must be {@link #storable}: within the range PostgreSQL
 * stores ({@code timestamptz}: 4713 BC to 294276 AD), checked before any statement sees it, since
 * JDBC's {@code java.sql.Timestamp.from} overflows for years beyond about 292 million, silently on
 * JDK 17 (a wrong instant) and with an exception on newer JDKs. (Where the domain has a narrower
 * rule of its own, such as a revocation's invalidity date, that rule answers.)
 */
public final class RequestInstants {

    /** PostgreSQL's earliest timestamptz, 4713-11-24 BC (ISO year -4712). */
    static final Instant EARLIEST = Instant.parse("-4712-11-24T00:00:00Z");
    /** PostgreSQL's latest timestamptz. */
    static final Instant LATEST = Instant.parse("+294276-12-31T23:59:59.999999Z");

    private RequestInstants() {
    }

    /**
     * @param name    the parameter's name, for the error
     * @param example an instant to show in the error
     * @return null for null
     */
    public static Instant instant(String name, String text, String example) {
        if (text == null) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw ProblemException.invalidRequest(name + " must be an ISO-8601 instant such as " + example + ".");
        }
    }

    /**
     * A date (10 characters, the start of that UTC day) or an ISO-8601 instant.
     *
     * @return null for null
     */
    public static Instant dateOrInstant(String name, String text, String exampleDate) {
        if (text == null) {
            return null;
        }
        try {
            return text.length() == 10 ? LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : Instant.parse(text);
        } catch (DateTimeParseException e) {
            throw ProblemException.invalidRequest(name + " must be a date such as " + exampleDate
                    + " or an ISO-8601 instant.");
        }
    }

    /**
     * @param name the parameter's name, for the error
     * @return {@code value} (null for null) when PostgreSQL can store it
     */
    public static Instant storable(String name, Instant value) {
        if (value != null && (value.isBefore(EARLIEST) || value.isAfter(LATEST))) {
            throw ProblemException.invalidRequest(name + " is outside the range of dates Trent can store (years "
                    + "4713 BC to 294276 AD).");
        }
        return value;
    }
}
