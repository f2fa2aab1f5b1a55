package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.cert.X509Certificate;
import java.util.List;

import org.bouncycastle.operator.ContentSigner;
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

    /** Where the simulated fault strikes: creating the signer, or inside the signature itself. */
    enum Fault { NONE, CREATE, SIGN }

    static final java.util.concurrent.atomic.AtomicReference<Fault> FAULT =
            new java.util.concurrent.atomic.AtomicReference<>(Fault.NONE);

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
                    if (FAULT.get() == Fault.CREATE) {
                        throw new SigningException("simulated signer fault", new java.io.IOException("device error"));
                    }
                    ContentSigner signer = real.contentSigner();
                    if (FAULT.get() != Fault.SIGN) {
                        return signer;
                    }
                    return new ContentSigner() {
                        @Override
                        public org.bouncycastle.asn1.x509.AlgorithmIdentifier getAlgorithmIdentifier() {
                            return signer.getAlgorithmIdentifier();
                        }

                        @Override
                        public java.io.OutputStream getOutputStream() {
                            return signer.getOutputStream();
                        }

                        @Override
                        public byte[] getSignature() {
                            // As Bouncy Castle reports a SignatureException from the provider (an HSM fault).
                            throw new org.bouncycastle.operator.RuntimeOperatorException("simulated token error",
                                    new java.security.SignatureException("CKR_DEVICE_ERROR"));
                        }
                    };
                }
            };
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Fault.class, names = {"CREATE", "SIGN"})
    void enrollWhenSignerFailsThen503AndNothingIsLostAndRetrySucceeds(Fault fault) {
        TrentClient c = client();
        String device = deviceId("fault");
        String token = c.token(ADMIN_KEY, device, "device", null);
        byte[] csr = TestCsrs.ecP256("x").pem().getBytes();

        FAULT.set(fault);
        TrentClient.Response failed;
        try {
            failed = c.enroll(token, "application/x-pem-file", csr, null);
        } finally {
            FAULT.set(Fault.NONE);
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
