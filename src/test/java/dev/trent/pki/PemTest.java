package dev.trent.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class PemTest {

    @Test
    void decodeAllWhenEncodedBlocksWithCrlfAndTextAroundThenEachBlockInOrder() {
        byte[] a = {1, 2, 3, 4, 5};
        byte[] b = new byte[200];
        String text = "leading text\r\n" + Pem.encode("CERTIFICATE", a).replace("\n", "\r\n") + "between\n"
                + Pem.encode("NEW CERTIFICATE REQUEST", b) + "trailing";

        List<Pem.Block> blocks = Pem.decodeAll(text);

        assertThat(blocks).hasSize(2);
        assertThat(blocks.get(0).label()).isEqualTo("CERTIFICATE");
        assertThat(blocks.get(0).der()).isEqualTo(a);
        assertThat(blocks.get(1).label()).isEqualTo("NEW CERTIFICATE REQUEST");
        assertThat(blocks.get(1).der()).isEqualTo(b);
        assertThat(Pem.decodeAll("no pem here")).isEmpty();
    }

    @Test
    void decodeAllWhenBlockBrokenThenIllegalArgument() {
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN CERTIFICATE-----\nAAAA\n"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no END line");
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN bad<label-----\nAAAA\n-----END bad<label-----"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid character");
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN X-----\n@@@@\n-----END X-----"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN " + "A".repeat(100)))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
