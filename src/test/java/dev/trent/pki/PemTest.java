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
    void encodeWhenAnyLengthThenSixtyFourCharacterLinesEndedByLineFeed() {
        byte[] der = new byte[100];
        for (int i = 0; i < der.length; i++) {
            der[i] = (byte) (i * 7);
        }
        String b64 = java.util.Base64.getEncoder().encodeToString(der);

        assertThat(Pem.encode("CERTIFICATE", der)).isEqualTo("-----BEGIN CERTIFICATE-----\n" + b64.substring(0, 64)
                + "\n" + b64.substring(64, 128) + "\n" + b64.substring(128) + "\n-----END CERTIFICATE-----\n");
        assertThat(Pem.encode("X509 CRL", new byte[48])).isEqualTo("-----BEGIN X509 CRL-----\n" + "A".repeat(64)
                + "\n-----END X509 CRL-----\n");
        assertThat(Pem.encode("X", new byte[] {1, 2, 3})).isEqualTo("-----BEGIN X-----\nAQID\n-----END X-----\n");
    }

    @Test
    void decodeAllWhenLinesIndentedThenDecoded() {
        List<Pem.Block> blocks = Pem.decodeAll("  -----BEGIN X-----\n\t AQID \n  -----END X-----  \n");

        assertThat(blocks).singleElement().satisfies(b -> {
            assertThat(b.label()).isEqualTo("X");
            assertThat(b.der()).containsExactly(1, 2, 3);
        });
    }

    @Test
    void decodeAllWhenBlockBrokenThenIllegalArgument() {
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAQID\n-----END X-----"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("headers");
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN " + "A".repeat(41) + "-----\nAQID\n-----END "
                + "A".repeat(41) + "-----")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Pem.decodeAll("-----BEGIN X-----\nAQI\n-----END X-----"))
                .isInstanceOf(IllegalArgumentException.class);
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
