package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.trent.support.IntegrationTest;

/**
 * {@link HttpFuzzer} against the whole application: mutated requests to every operation in
 * {@code openapi.yaml}, with and without the bootstrap admin key; no 5xx, every error
 * problem+json (OCSP answers in OCSP); chunked bodies and keep-alive connections among them (the
 * request after a kept-alive one must get its own 200). 2,000 requests in the build; more with
 * {@code -Dtrent.fuzz.count=N}; a failure prints its seed and request, and
 * {@code -Dtrent.fuzz.seed=S} replays the run.
 */
class HttpFuzzIT extends IntegrationTest {

    @Test
    void everyOperationWhenFuzzedThenNo5xxAndEveryErrorInItsFormat() throws Exception {
        long count = Long.getLong("trent.fuzz.count", 2_000);
        long seed = Long.getLong("trent.fuzz.seed", System.nanoTime());
        HttpFuzzer fuzzer = new HttpFuzzer(Path.of("openapi.yaml"), "localhost", port, ADMIN_KEY, seed);
        assertThat(fuzzer.operationNames()).as("every documented operation is fuzzed").hasSizeGreaterThan(40)
                .contains("POST /ocsp", "POST /api/v1/enroll", "DELETE /api/v1/api-keys/{id}");

        HttpFuzzer.Summary summary = fuzzer.run(count, 4, 20);

        System.out.print("HttpFuzzIT " + summary.report());
        assertThat(summary.statuses().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(count);
        assertThat(summary.statuses().keySet()).as("authenticated requests got through").contains(200);
        assertThat(summary.chunked()).as("chunked bodies were sent").isPositive();
        assertThat(summary.followedOnTheConnection()).as("kept-alive connections carried a second request")
                .isPositive();
        assertThat(summary.failureCount()).as("replay with -Dtrent.fuzz.seed=" + seed + "\n" + summary.report())
                .isZero();
    }
}
