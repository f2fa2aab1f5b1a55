package dev.trent.ocsp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class OcspHttpTest {

    @Test
    void percentDecodeWhenEscapesOfAnyCaseThenDecodedAndRawPlusKept() {
        assertThat(OcspHttp.percentDecode("MEIw+Q/A=")).isEqualTo("MEIw+Q/A=");
        assertThat(OcspHttp.percentDecode("MEIw%2BQ%2FA%3D")).isEqualTo("MEIw+Q/A=");
        assertThat(OcspHttp.percentDecode("MEIw%2bQ%2fA%3d")).isEqualTo("MEIw+Q/A=");
        assertThat(OcspHttp.percentDecode("")).isEmpty();
    }

    @Test
    void percentDecodeWhenEscapeBrokenThenIllegalArgument() {
        for (String bad : List.of("%", "AAAA%", "AAAA%4", "%zz", "%4g", "A%%41", "%\u0661\u0661")) {
            assertThatThrownBy(() -> OcspHttp.percentDecode(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
