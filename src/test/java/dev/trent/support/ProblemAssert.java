package dev.trent.support;

import static org.assertj.core.api.Assertions.assertThat;

/** Assertions on RFC 9457 problem+json responses. */
public final class ProblemAssert {

    private ProblemAssert() {
    }

    /** The response is problem+json with this status and {@code type}, and says what was wrong. */
    public static void assertProblem(TrentClient.Response r, int status, String type) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/problem+json");
        assertThat(r.json().get("type").asText()).isEqualTo("https://trent.dev/problems/" + type);
        assertThat(r.json().get("status").asInt()).isEqualTo(status);
        assertThat(r.json().get("detail").asText()).isNotBlank();
    }
}
