package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;

class MediaTypesTest {

    private static final List<MediaType> OFFERED = List.of(MediaTypes.PEM_CHAIN, MediaTypes.PKIX_CERT,
            MediaType.APPLICATION_JSON);

    @Test
    void negotiateWhenNoAcceptOrWildcardThenFirstOffered() {
        assertThat(MediaTypes.negotiate(null, OFFERED)).isEqualTo(MediaTypes.PEM_CHAIN);
        assertThat(MediaTypes.negotiate("*/*", OFFERED)).isEqualTo(MediaTypes.PEM_CHAIN);
        assertThat(MediaTypes.negotiate("application/*", OFFERED)).isEqualTo(MediaTypes.PEM_CHAIN);
    }

    @Test
    void negotiateWhenQualityValuesThenHighestWins() {
        assertThat(MediaTypes.negotiate("application/json;q=0.5, application/pkix-cert", OFFERED))
                .isEqualTo(MediaTypes.PKIX_CERT);
        assertThat(MediaTypes.negotiate("application/pkix-cert;q=0, */*;q=0.1", OFFERED))
                .isEqualTo(MediaTypes.PEM_CHAIN);
    }

    @Test
    void negotiateWhenTypeHasQZeroThenWildcardDoesNotBringItBack() {
        assertThat(MediaTypes.negotiate("application/pem-certificate-chain;q=0, */*", OFFERED))
                .isEqualTo(MediaTypes.PKIX_CERT);
        assertThatThrownBy(() -> MediaTypes.negotiate("*/*;q=0", OFFERED)).isInstanceOf(ProblemException.class);
    }

    @Test
    void negotiateWhenNothingMatchesThen406() {
        assertThatThrownBy(() -> MediaTypes.negotiate("image/png", OFFERED)).isInstanceOf(ProblemException.class)
                .hasMessageContaining("application/pkix-cert")
                .satisfies(e -> {
                    assertThat(((ProblemException) e).status().value()).isEqualTo(406);
                    assertThat(((ProblemException) e).type()).isEqualTo("not-acceptable");
                });
        assertThatThrownBy(() -> MediaTypes.negotiate("not a type;;", OFFERED)).isInstanceOf(ProblemException.class);
    }
}
