package dev.trent.pki;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;

import org.junit.jupiter.api.Test;

/** The non-recursive DER check: each X.690 DER rule it enforces, with the offset it reports. */
class StrictDerTest {

    private static byte[] hex(String h) {
        return HexFormat.of().parseHex(h.replace(" ", ""));
    }

    @Test
    void checkWhenDerThenPasses() {
        assertThatCode(() -> StrictDer.check(hex("30 06 02 01 05 04 01 ff"), 2)).doesNotThrowAnyException();
        assertThatCode(() -> StrictDer.check(hex("30 00"), 1)).doesNotThrowAnyException();
        assertThatCode(() -> StrictDer.check(hex("9f 1f 00"), 1)).as("high tag number 31").doesNotThrowAnyException();
        byte[] long128 = new byte[3 + 128];
        long128[0] = 0x04;
        long128[1] = (byte) 0x81;
        long128[2] = (byte) 0x80;
        assertThatCode(() -> StrictDer.check(long128, 1)).doesNotThrowAnyException();
    }

    @Test
    void checkWhenBerOrBrokenThenNotDerSayingWhy() {
        assertThatThrownBy(() -> StrictDer.check(hex("30 80 05 00 00 00"), 4)).hasMessageContaining("indefinite length at offset 0");
        assertThatThrownBy(() -> StrictDer.check(hex("04 81 05 01 02 03 04 05"), 4)).hasMessageContaining("non-minimal length");
        assertThatThrownBy(() -> StrictDer.check(hex("04 82 00 80"), 4)).hasMessageContaining("leading zero");
        assertThatThrownBy(() -> StrictDer.check(hex("24 03 04 01 00"), 4)).hasMessageContaining("constructed encoding");
        assertThatThrownBy(() -> StrictDer.check(hex("10 00"), 4)).hasMessageContaining("primitive SEQUENCE");
        assertThatThrownBy(() -> StrictDer.check(hex("30 03 02 01"), 4)).hasMessageContaining("runs past");
        assertThatThrownBy(() -> StrictDer.check(hex("30 84 7f ff ff ff"), 4)).hasMessageContaining("runs past");
        assertThatThrownBy(() -> StrictDer.check(hex("05 00 05 00"), 4)).hasMessageContaining("trailing data");
        assertThatThrownBy(() -> StrictDer.check(hex("9f 05 00"), 4)).hasMessageContaining("long form");
        assertThatThrownBy(() -> StrictDer.check(hex("30 04 30 02 30 00"), 2)).hasMessageContaining("nested deeper than 2");
        assertThatThrownBy(() -> StrictDer.check(new byte[0], 4)).hasMessageContaining("empty");
        assertThatThrownBy(() -> StrictDer.check(hex("30 03 00 00 00"), 4)).hasMessageContaining("end-of-contents");
    }
}
