package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class IssuanceRulesTest {

    @Test
    void serialWhenGeneratedThenPositiveAtMost17OctetsAndUnique() {
        SerialNumbers serials = new SerialNumbers(new SecureRandom());
        Set<BigInteger> seen = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            BigInteger s = serials.next();
            assertThat(s.signum()).isPositive();
            assertThat(s.toByteArray().length).isLessThanOrEqualTo(17);
            assertThat(seen.add(s)).isTrue();
        }
        // With 128 random bits, some serials use the top bit (and need the 17th, zero, octet).
        assertThat(seen.stream().anyMatch(s -> s.bitLength() == 128)).isTrue();
    }

    @Test
    void serialWhenRandomReturnsZerosThenDrawsAgain() {
        SecureRandom zerosOnce = new SecureRandom() {
            private boolean first = true;

            @Override
            public void nextBytes(byte[] bytes) {
                if (first) {
                    first = false;
                    java.util.Arrays.fill(bytes, (byte) 0);
                } else {
                    java.util.Arrays.fill(bytes, (byte) 7);
                }
            }
        };
        assertThat(new SerialNumbers(zerosOnce).next().signum()).isPositive();
    }

    @Test
    void canonicalWhenColonsOrCaseOrLeadingZerosThenNormalised() {
        assertThat(SerialNumbers.canonical("0A:BC:de")).isEqualTo("abcde");
        assertThat(SerialNumbers.canonical("00ff")).isEqualTo("ff");
        assertThat(SerialNumbers.canonical("xyz")).isNull();
        assertThat(SerialNumbers.canonical("")).isNull();
        assertThat(SerialNumbers.canonical("1".repeat(41))).isNull();
    }

    @Test
    void dnsNameWhenCheckedThenLdhLabelsOnly() {
        assertThat(DnsNames.isValid("gw-1.example.test")).isTrue();
        assertThat(DnsNames.isValid("localhost")).isTrue();
        assertThat(DnsNames.isValid(DnsNames.normalize(" MQTT.Example.COM "))).isTrue();
        assertThat(DnsNames.isValid("*.example.com")).isFalse();
        assertThat(DnsNames.isValid("-bad.example.com")).isFalse();
        assertThat(DnsNames.isValid("bad-.example.com")).isFalse();
        assertThat(DnsNames.isValid("a..b")).isFalse();
        assertThat(DnsNames.isValid("example.com.")).isFalse();
        assertThat(DnsNames.isValid("10.0.0.1")).isFalse();
        assertThat(DnsNames.isValid("under_score.example")).isFalse();
        assertThat(DnsNames.isValid("a".repeat(64) + ".example")).isFalse();
        assertThat(DnsNames.isValid("Upper.example")).isFalse();
    }
}
