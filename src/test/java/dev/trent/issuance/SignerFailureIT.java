package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.bouncycastle.operator.ContentSigner;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;

import dev.trent.ca.CaSigner;
import dev.trent.ca.SigningException;
import dev.trent.support.IntegrationTest;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/**
 * A CA signer that fails mid-issuance (as a keystore or HSM fault would) leaves nothing behind:
 * 503 problem+json, the token still unused, no certificate row; and the next request after the
 * fault clears succeeds with the same token.
 */
class SignerFailureIT extends IntegrationTest {

    static final AtomicBoolean FAIL = new AtomicBoolean();

    @TestConfiguration
    static class FaultySignerConfig {
        /** Wraps the real signer; throws from contentSigner() while FAIL is set. */
        @Bean
        @Primary
        CaSigner faultySigner(@Qualifier("caSigner") CaSigner real) {
            return new CaSigner() {
                @Override
                public List<X509Certificate> chain() {
                    return real.chain();
                }

                @Override
                public ContentSigner contentSigner() {
                    if (FAIL.get()) {
                        throw new SigningException("simulated signer fault", new java.io.IOException("device error"));
                    }
                    return real.contentSigner();
                }
            };
        }
    }

    @Test
    void enrollWhenSignerFailsThen503AndNothingIsLostAndRetrySucceeds() {
        TrentClient c = client();
        String device = deviceId("fault");
        String token = c.token(ADMIN_KEY, device, "device", null);
        byte[] csr = TestCsrs.ecP256("x").pem().getBytes();

        FAIL.set(true);
        TrentClient.Response failed;
        try {
            failed = c.enroll(token, "application/x-pem-file", csr, null);
        } finally {
            FAIL.set(false);
        }

        assertThat(failed.status()).as(failed.toString()).isEqualTo(503);
        assertThat(failed.contentType()).startsWith("application/problem+json");
        assertThat(failed.json().get("type").asText()).isEqualTo("https://trent.dev/problems/signer-unavailable");
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class, device))
                .isZero();
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).isEqualTo(1);

        TrentClient.Response retried = c.enroll(token, "application/x-pem-file", csr, null);

        assertThat(retried.status()).as(retried.toString()).isEqualTo(201);
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ? and status = 'ISSUED'",
                Integer.class, device)).isEqualTo(1);
    }
}
