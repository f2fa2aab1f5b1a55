package dev.trent.pki;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;

import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.x509.Time;

/**
 * Certificate validity times (RFC 5280 4.1.2.5) to and from Bouncy Castle's {@link Time} with
 * {@code java.time}. Bouncy Castle's {@code Time(Date)} and {@code getDate()} make a new
 * {@code SimpleDateFormat} on every call, which was about 5% of an enrollment's CPU (a JFR
 * profile of the enrollment load); these produce the same DER, with the digits written and read
 * directly (java.time's formatters and a regular expression were still ~2% of the linter's time).
 *
 * <p>RFC 5280 4.1.2.5: UTCTime ({@code YYMMDDHHMMSSZ}) for the years 1950 to 2049,
 * GeneralizedTime ({@code YYYYMMDDHHMMSSZ}) from 2050; both in UTC ("Z"), with seconds and
 * without fractions.
 */
public final class Asn1Times {

    private static final byte UTC_TIME = 0x17;
    private static final byte GENERALIZED_TIME = 0x18;

    private Asn1Times() {
    }

    /** The validity time RFC 5280 prescribes for this instant (fractions of a second dropped). */
    public static Time time(Instant instant) {
        LocalDateTime t = LocalDateTime.ofEpochSecond(instant.getEpochSecond(), 0, ZoneOffset.UTC);
        int year = t.getYear();
        if (year < 1950 || year > 9999) {
            throw new IllegalArgumentException("a certificate time must be in the years 1950 to 9999: " + instant);
        }
        boolean utc = year < 2050;
        byte[] der = new byte[utc ? 15 : 17];
        der[0] = utc ? UTC_TIME : GENERALIZED_TIME; // primitive
        der[1] = (byte) (der.length - 2);
        int at = 2;
        if (!utc) {
            at = digits(der, at, year / 100);
        }
        at = digits(der, at, year % 100);
        at = digits(der, at, t.getMonthValue());
        at = digits(der, at, t.getDayOfMonth());
        at = digits(der, at, t.getHour());
        at = digits(der, at, t.getMinute());
        at = digits(der, at, t.getSecond());
        der[at] = 'Z';
        return utc ? new Time(ASN1UTCTime.getInstance(der)) : new Time(ASN1GeneralizedTime.getInstance(der));
    }

    private static int digits(byte[] into, int at, int twoDigits) {
        into[at] = (byte) ('0' + twoDigits / 10);
        into[at + 1] = (byte) ('0' + twoDigits % 10);
        return at + 2;
    }

    /**
     * The instant of a validity time in RFC 5280's form; {@link IllegalArgumentException} for any
     * other form (a UTCTime without seconds or with an offset, a GeneralizedTime with fractions)
     * and for a date or time that does not exist (February 30th, hour 24).
     */
    public static Instant instant(Time time) {
        ASN1Primitive p = time.toASN1Primitive();
        boolean utc;
        if (p instanceof ASN1UTCTime) {
            utc = true;
        } else if (p instanceof ASN1GeneralizedTime) {
            utc = false;
        } else {
            throw new IllegalArgumentException("not a UTCTime or GeneralizedTime");
        }
        byte[] der;
        try {
            der = p.getEncoded();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("unencodable time", e);
        }
        // Tag, a one-octet length, then YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ exactly.
        int digits = utc ? 12 : 14;
        boolean form = der.length == digits + 3 && der[1] == digits + 1 && der[der.length - 1] == 'Z';
        for (int k = 2; form && k < 2 + digits; k++) {
            form = der[k] >= '0' && der[k] <= '9';
        }
        if (!form) {
            throw new IllegalArgumentException("not in RFC 5280's form (" + (utc ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ")
                    + ")");
        }
        int at = 2;
        int year;
        if (utc) {
            int yy = number(der, at);
            year = yy < 50 ? 2000 + yy : 1900 + yy;
            at += 2;
        } else {
            year = number(der, at) * 100 + number(der, at + 2);
            at += 4;
        }
        try {
            return LocalDateTime.of(year, number(der, at), number(der, at + 2), number(der, at + 4),
                    number(der, at + 6), number(der, at + 8)).toInstant(ZoneOffset.UTC);
        } catch (java.time.DateTimeException e) {
            throw new IllegalArgumentException("not a valid date and time", e);
        }
    }

    private static int number(byte[] der, int at) {
        return (der[at] - '0') * 10 + (der[at + 1] - '0');
    }
}
