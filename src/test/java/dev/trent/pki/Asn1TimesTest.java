package dev.trent.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.ASN1UTCTime;
import org.bouncycastle.asn1.x509.Time;
import org.junit.jupiter.api.Test;

class Asn1TimesTest {

    private static final List<String> INSTANTS = List.of("1950-01-01T00:00:00Z", "1999-12-31T23:59:59Z",
            "2000-01-01T00:00:00Z", "2026-12-03T22:51:07.999Z", "2049-12-31T23:59:59.5Z", "2050-01-01T00:00:00Z",
            "2126-02-28T12:00:00Z", "9999-12-31T23:59:59Z");

    @Test
    void timeWhenEncodedThenTheSameDerAsBouncyCastlesOwn() throws Exception {
        for (String s : INSTANTS) {
            Instant i = Instant.parse(s);
            assertThat(Asn1Times.time(i).getEncoded()).as(s).isEqualTo(new Time(Date.from(i)).getEncoded());
        }
    }

    @Test
    void instantWhenReadBackThenTheInstantToTheSecond() {
        for (String s : INSTANTS) {
            Instant i = Instant.parse(s);
            assertThat(Asn1Times.instant(Asn1Times.time(i))).as(s).isEqualTo(i.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
            assertThat(Asn1Times.instant(new Time(Date.from(i)))).as(s)
                    .isEqualTo(new Time(Date.from(i)).getDate().toInstant());
        }
    }

    @Test
    void instantWhenNotInRfc5280FormThenRefused() {
        assertThatThrownBy(() -> Asn1Times.instant(new Time(new ASN1UTCTime("2612032251Z"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("RFC 5280");
        assertThatThrownBy(() -> Asn1Times.instant(new Time(new ASN1UTCTime("261203225107+0100"))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Asn1Times.instant(new Time(new ASN1GeneralizedTime("20501203225107.5Z"))))
                .isInstanceOf(IllegalArgumentException.class);
        // Dates and times that do not exist are refused, not moved to a neighbouring one.
        assertThatThrownBy(() -> Asn1Times.instant(new Time(new ASN1UTCTime("260230120000Z"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a valid date");
        assertThatThrownBy(() -> Asn1Times.instant(new Time(new ASN1GeneralizedTime("20501203240000Z"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a valid date");
        assertThatThrownBy(() -> Asn1Times.time(Instant.parse("1949-12-31T23:59:59Z")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
