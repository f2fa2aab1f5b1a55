package dev.trent.pki;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.x509.Time;

/**
 * Certificate validity times (RFC 5280 4.1.2.5) to and from Bouncy Castle's {@link Time} with
 * {@code java.time}. Bouncy Castle's {@code Time(Date)} and {@code getDate()} make a new
 * {@code SimpleDateFormat} on every call, which was about 5% of an enrollment's CPU (a JFR
 * profile of the enrollment load); these produce the same DER.
 *
 * <p>RFC 5280 4.1.2.5: UTCTime ({@code YYMMDDHHMMSSZ}) for the years 1950 to 2049,
 * GeneralizedTime ({@code YYYYMMDDHHMMSSZ}) from 2050; both in UTC ("Z"), with seconds and
 * without fractions.
 */
public final class Asn1Times {

    private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter GENERALIZED_TIME = DateTimeFormatter
            .ofPattern("uuuuMMddHHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final java.util.regex.Pattern UTC_FORM = java.util.regex.Pattern.compile("[0-9]{12}Z");
    private static final java.util.regex.Pattern GENERALIZED_FORM = java.util.regex.Pattern.compile("[0-9]{14}Z");
    private static final DateTimeFormatter PARSE_GENERALIZED = DateTimeFormatter.ofPattern("uuuuMMddHHmmss",
            Locale.ROOT);

    private Asn1Times() {
    }

    /** The validity time RFC 5280 prescribes for this instant (fractions of a second dropped). */
    public static Time time(Instant instant) {
        int year = instant.atOffset(ZoneOffset.UTC).getYear();
        if (year < 1950 || year > 9999) {
            throw new IllegalArgumentException("a certificate time must be in the years 1950 to 9999: " + instant);
        }
        boolean utc = year < 2050;
        byte[] text = (utc ? UTC_TIME : GENERALIZED_TIME).format(instant).getBytes(StandardCharsets.US_ASCII);
        byte[] der = new byte[2 + text.length];
        der[0] = (byte) (utc ? 0x17 : 0x18); // UTCTime or GeneralizedTime, primitive
        der[1] = (byte) text.length;
        System.arraycopy(text, 0, der, 2, text.length);
        return utc ? new Time(ASN1UTCTime.getInstance(der)) : new Time(ASN1GeneralizedTime.getInstance(der));
    }

    /**
     * The instant of a validity time in RFC 5280's form; {@link IllegalArgumentException} for any
     * other form (a UTCTime without seconds or with an offset, a GeneralizedTime with fractions).
     */
    public static Instant instant(Time time) {
        ASN1Primitive p = time.toASN1Primitive();
        String text;
        boolean utc;
        try {
            text = new String(p.getEncoded(), StandardCharsets.US_ASCII).substring(2);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("unencodable time", e);
        }
        if (p instanceof ASN1UTCTime) {
            utc = true;
        } else if (p instanceof ASN1GeneralizedTime) {
            utc = false;
        } else {
            throw new IllegalArgumentException("not a UTCTime or GeneralizedTime");
        }
        if (!(utc ? UTC_FORM : GENERALIZED_FORM).matcher(text).matches()) {
            throw new IllegalArgumentException("not in RFC 5280's form (" + (utc ? "YYMMDDHHMMSSZ" : "YYYYMMDDHHMMSSZ")
                    + ")");
        }
        String full = utc ? (text.charAt(0) < '5' ? "20" : "19") + text : text;
        try {
            return LocalDateTime.parse(full.substring(0, 14), PARSE_GENERALIZED).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a valid date and time", e);
        }
    }
}
