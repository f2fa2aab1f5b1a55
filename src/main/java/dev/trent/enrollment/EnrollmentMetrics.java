package dev.trent.enrollment;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

import dev.trent.ca.SigningException;
import dev.trent.config.TrentProperties;
import dev.trent.web.ProblemException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code trent.enrollments}: one count per enrollment attempt that reached the enrollment
 * service, tagged {@code method} (token, keygen, idevid, renewal), {@code profile} (a configured
 * profile, or {@code unknown} before the token or certificate is known), {@code outcome}
 * (issued, retried, refused, signer-unavailable, error) and {@code problem} (the problem type
 * slug of a refusal, else {@code none}). Successes count once their transaction commits.
 * Every series except the refusals is registered at start, so they read 0 before the first
 * enrollment; refusals are registered at their first occurrence (slugs are a fixed set in code).
 */
@Component
class EnrollmentMetrics {

    static final String NAME = "trent.enrollments";
    static final String UNKNOWN_PROFILE = "unknown";

    enum Method {
        TOKEN("token"), KEYGEN("keygen"), IDEVID("idevid"), RENEWAL("renewal");

        final String tag;

        Method(String tag) {
            this.tag = tag;
        }
    }

    private enum Outcome {
        ISSUED("issued"), RETRIED("retried"), SIGNER_UNAVAILABLE("signer-unavailable"), ERROR("error");

        final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }
    }

    private record RefusalKey(String profile, Method method, String problem) {
    }

    private final MeterRegistry registry;
    private final Set<String> profiles;
    /** profile -> method -> outcome -> counter; built once, read-only afterwards. */
    private final Map<String, Map<Method, Map<Outcome, Counter>>> counters = new HashMap<>();
    private final Map<RefusalKey, Counter> refusals = new ConcurrentHashMap<>();

    EnrollmentMetrics(MeterRegistry registry, TrentProperties properties) {
        this.registry = registry;
        this.profiles = Set.copyOf(properties.profiles().keySet());
        for (String profile : properties.profiles().keySet()) {
            counters.put(profile, register(profile));
        }
        counters.put(UNKNOWN_PROFILE, register(UNKNOWN_PROFILE));
    }

    private Map<Method, Map<Outcome, Counter>> register(String profile) {
        Map<Method, Map<Outcome, Counter>> byMethod = new EnumMap<>(Method.class);
        for (Method m : Method.values()) {
            Map<Outcome, Counter> byOutcome = new EnumMap<>(Outcome.class);
            for (Outcome o : Outcome.values()) {
                byOutcome.put(o, counter(profile, m, o.tag, "none"));
            }
            byMethod.put(m, byOutcome);
        }
        return byMethod;
    }

    private Counter counter(String profile, Method method, String outcome, String problem) {
        return Counter.builder(NAME).description("Enrollment attempts by profile and outcome")
                .tag("method", method.tag).tag("profile", profile).tag("outcome", outcome).tag("problem", problem)
                .register(registry);
    }

    /** A new attempt; call {@link Attempt#profile} once the profile is known. */
    Attempt attempt(Method method) {
        return new Attempt(method);
    }

    /** One enrollment attempt, used by one thread inside the enrollment transaction. */
    final class Attempt {

        private final Method method;
        private String profile = UNKNOWN_PROFILE;

        private Attempt(Method method) {
            this.method = method;
        }

        /** The profile of the token, certificate or manufacturer CA (only configured names become tags). */
        void profile(String name) {
            this.profile = name != null && profiles.contains(name) ? name : UNKNOWN_PROFILE;
        }

        /** Counts a success when the transaction commits (an error if it rolls back instead). */
        <T> T succeeded(T result, boolean created) {
            Outcome outcome = created ? Outcome.ISSUED : Outcome.RETRIED;
            if (!TransactionSynchronizationManager.isSynchronizationActive()) {
                count(outcome);
                return result;
            }
            TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
                @Override
                public void afterCompletion(int status) {
                    count(status == STATUS_COMMITTED ? outcome : Outcome.ERROR);
                }
            });
            return result;
        }

        /** Counts a failure and returns it for rethrowing. */
        RuntimeException failed(RuntimeException e) {
            if (e instanceof ProblemException p) {
                refused(p.type());
            } else if (e instanceof dev.trent.domain.DomainException d) {
                refused(d.code()); // a manufacturer CA's refusal of the factory certificate
            } else if (e instanceof SigningException) {
                count(Outcome.SIGNER_UNAVAILABLE);
            } else {
                count(Outcome.ERROR);
            }
            return e;
        }

        private void refused(String problem) {
            refusals.computeIfAbsent(new RefusalKey(profile, method, problem),
                    k -> counter(k.profile(), k.method(), "refused", k.problem())).increment();
        }

        private void count(Outcome outcome) {
            counters.get(profile).get(method).get(outcome).increment();
        }
    }
}
