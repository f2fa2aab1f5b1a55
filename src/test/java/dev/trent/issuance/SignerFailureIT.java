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

    /** The signing port and the key's status, as the real adapters implement both. */
    interface FaultySigner extends CaSigner, dev.trent.ca.KeyStatus {
    }

    @TestConfiguration
    static class FaultySignerConfig {
        /** Wraps the real signer; throws from contentSigner() while FAIL is set. */
        @Bean
        @Primary
        CaSigner faultySigner(@Qualifier("caSigner") CaSigner real) {
            dev.trent.ca.KeyStatus realStatus = dev.trent.ca.KeyStatus.of(real);
            return new FaultySigner() {
                @Override
                public List<X509Certificate> chain() {
                    return real.chain();
                }

                /** CREATE is a device that cannot be reached (as an HSM reports it); SIGN fails while reachable. */
                @Override
                public boolean available() {
                    return FAULT.get() != Fault.CREATE && realStatus.available();
                }

                @Override
                public String fault() {
                    return FAULT.get() == Fault.CREATE ? "simulated fault" : realStatus.fault();
                }

                @Override
                public void reconnectIfDue() {
                    realStatus.reconnectIfDue();
                }

                @Override
                public String describe() {
                    return realStatus.describe();
                }

                @Override
                public String keyReference() {
                    return realStatus.keyReference();
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
        // Retry-After only while the signer reports itself unreachable (it will come back); a
        // signature failing on a reachable key is not something waiting cures.
        assertThat(failed.header("Retry-After")).isEqualTo(fault == Fault.CREATE ? "30" : null);
        assertThat(failed.contentType()).startsWith("application/problem+json");
        assertThat(failed.json().get("type").asText()).isEqualTo("https://trent.dev/problems/signer-unavailable");
        if (fault == Fault.CREATE) {
            // No signer, so nothing reserved.
            assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ?", Integer.class,
                    device)).isZero();
        } else {
            // The reservation was committed before the signature was attempted; the rollback left
            // it ABANDONED (accounted for, never delivered, no DER, no token).
            assertThat(jdbc.queryForList("select status || ' ' || (der is null) || ' ' || (not exists (select 1 from "
                    + "enrollment_token t where t.certificate_id = c.id)) || ' ' || (tbs_sha256 is not null) "
                    + "from certificate c where device_id = ?", String.class, device))
                    .containsExactly("ABANDONED true true true");
        }
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).isEqualTo(1);

        TrentClient.Response retried = c.enroll(token, "application/x-pem-file", csr, null);

        assertThat(retried.status()).as(retried.toString()).isEqualTo(201);
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ? and status = 'ISSUED'",
                Integer.class, device)).isEqualTo(1);
    }

    @org.springframework.beans.factory.annotation.Autowired
    private dev.trent.tls.TlsServer tls;

    /**
     * RFC 7030 4.2.3: while the CA cannot sign, EST enrollment is deferred, not failed: 202 with
     * Retry-After, which Bouncy Castle's EST client reports as "not completed, retry after"; the
     * same request once the signer is back gets the certificate, the token untouched meanwhile.
     */
    @org.junit.jupiter.api.Test
    void estSimpleenrollWhenSignerFailsThen202WithRetryAfterAndTheSameRequestLaterSucceeds() throws Exception {
        String device = deviceId("est-defer");
        String token = client().token(ADMIN_KEY, device, "device", null);
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp256r1"));
        java.security.KeyPair keys = g.generateKeyPair();
        org.bouncycastle.pkcs.PKCS10CertificationRequest csr = new org.bouncycastle.pkcs.jcajce
                .JcaPKCS10CertificationRequestBuilder(new org.bouncycastle.asn1.x500.X500Name("CN=" + device),
                        keys.getPublic()).build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder(
                                "SHA256withECDSA").build(keys.getPrivate()));
        List<X509Certificate> chain = client().get("/api/v1/ca/chain", null, null).certificates();
        org.bouncycastle.est.ESTService est = new org.bouncycastle.est.jcajce.JsseESTServiceBuilder(
                "localhost:" + tls.port(), dev.trent.support.TestTls.trusting(chain.get(chain.size() - 1))).build();
        org.bouncycastle.est.HttpAuth auth = new org.bouncycastle.est.HttpAuth("trent-est", device, token.toCharArray());
        TrentClient https = TrentClient.https(tls.port(), chain.get(chain.size() - 1));

        FAULT.set(Fault.CREATE);
        org.bouncycastle.est.EnrollmentResponse deferred;
        TrentClient.Response raw;
        try {
            long before = System.currentTimeMillis();
            deferred = est.simpleEnroll(false, csr, auth);
            assertThat(deferred.isCompleted()).isFalse();
            assertThat(deferred.getNotBefore()).isBetween(before + 29_000, System.currentTimeMillis() + 31_000);
            raw = https.send("POST", "/.well-known/est/simpleenroll", java.util.Map.of("Content-Type",
                    "application/pkcs10", "Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                            (device + ":" + token).getBytes(java.nio.charset.StandardCharsets.UTF_8))),
                    java.util.Base64.getMimeEncoder().encode(csr.getEncoded()));
        } finally {
            FAULT.set(Fault.NONE);
        }
        assertThat(raw.status()).isEqualTo(202);
        assertThat(raw.header("Retry-After")).isEqualTo("30");
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).as("nothing consumed").isEqualTo(1);

        org.bouncycastle.est.EnrollmentResponse done = est.simpleEnroll(false, csr, auth);

        assertThat(done.isCompleted()).isTrue();
        assertThat(jdbc.queryForObject("select count(*) from certificate where device_id = ? and status = 'ISSUED'",
                Integer.class, device)).isEqualTo(1);
    }

    /** A signer that is reachable but fails to sign: EST answers 503, not 202 (retrying would not help). */
    @org.junit.jupiter.api.Test
    void estSimpleenrollWhenAReachableSignerFailsThen503NotDeferred() throws Exception {
        String device = deviceId("est-fail");
        String token = client().token(ADMIN_KEY, device, "device", null);
        List<X509Certificate> chain = client().get("/api/v1/ca/chain", null, null).certificates();
        TrentClient https = TrentClient.https(tls.port(), chain.get(chain.size() - 1));
        FAULT.set(Fault.SIGN);
        TrentClient.Response r;
        try {
            r = https.send("POST", "/.well-known/est/simpleenroll", java.util.Map.of("Content-Type", "application/pkcs10",
                    "Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
                            (device + ":" + token).getBytes(java.nio.charset.StandardCharsets.UTF_8))),
                    java.util.Base64.getMimeEncoder().encode(TestCsrs.ecP256("x").der()));
        } finally {
            FAULT.set(Fault.NONE);
        }
        assertThat(r.status()).as(r.toString()).isEqualTo(503);
        assertThat(r.json().get("type").asText()).endsWith("/signer-unavailable");
        assertThat(r.header("Retry-After")).isNull();
        assertThat(jdbc.queryForObject("select count(*) from enrollment_token where device_id = ? and used_at is null",
                Integer.class, device)).isEqualTo(1);
    }
}
