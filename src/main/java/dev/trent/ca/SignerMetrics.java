package dev.trent.ca;

import java.io.OutputStream;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.operator.ContentSigner;
import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * {@code trent.signer}: the time of each CA signature (certificates, CRLs, OCSP responder
 * certificates), and {@code trent.signer.errors}: signatures that failed, including those refused
 * at once while the HSM is unreachable; both tagged {@code issuer} (its id) and {@code signer}
 * ({@code keystore} or {@code pkcs11}). The registry wraps every issuer's signer with
 * {@link #wrap}; the signer port itself stays free of metrics.
 */
@Component
class SignerMetrics {

    private final MeterRegistry registry;
    private final String kind;

    SignerMetrics(MeterRegistry registry, TrentProperties properties) {
        this.registry = registry;
        this.kind = properties.ca().signer().name().toLowerCase(Locale.ROOT);
    }

    CaSigner wrap(String issuerId, CaSigner signer) {
        Timer latency = Timer.builder("trent.signer").description("CA signature latency").tag("issuer", issuerId)
                .tag("signer", kind).publishPercentileHistogram().minimumExpectedValue(java.time.Duration.ofMillis(1))
                .maximumExpectedValue(java.time.Duration.ofSeconds(10)).register(registry);
        Counter errors = Counter.builder("trent.signer.errors").description("CA signatures that failed")
                .tag("issuer", issuerId).tag("signer", kind).register(registry);
        return new Metered(signer, latency, errors);
    }

    /** Delegates everything; times and counts what {@link #contentSigner()} produces. */
    private record Metered(CaSigner delegate, Timer latency, Counter errors) implements CaSigner {

        @Override
        public List<X509Certificate> chain() {
            return delegate.chain();
        }

        @Override
        public ContentSigner contentSigner() {
            ContentSigner signer;
            try {
                signer = delegate.contentSigner();
            } catch (RuntimeException e) {
                errors.increment();
                throw e;
            }
            return new ContentSigner() {
                @Override
                public AlgorithmIdentifier getAlgorithmIdentifier() {
                    return signer.getAlgorithmIdentifier();
                }

                @Override
                public OutputStream getOutputStream() {
                    return signer.getOutputStream();
                }

                @Override
                public byte[] getSignature() {
                    long started = System.nanoTime();
                    try {
                        byte[] signature = signer.getSignature();
                        latency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
                        return signature;
                    } catch (RuntimeException e) {
                        errors.increment();
                        throw e;
                    }
                }
            };
        }

        @Override
        public X509Certificate issuerCertificate() {
            return delegate.issuerCertificate();
        }

        @Override
        public X509Certificate rootCertificate() {
            return delegate.rootCertificate();
        }
    }
}
