package dev.trent.ca;

import java.util.OptionalLong;

import org.springframework.stereotype.Component;

import dev.trent.domain.UnavailableException;
import dev.trent.web.RetryAdvice;

/**
 * A failed signature is worth retrying only when the active issuer's key is unreachable (an HSM
 * outage): the same request succeeds once it is back, nothing having been consumed (RFC 9110
 * 10.2.3). A key that is reachable yet failed is not cured by waiting, so no {@code Retry-After}.
 */
@Component
class SignerRetryAdvice implements RetryAdvice {

    static final long SECONDS = 30;

    private final IssuerRegistry issuers;

    SignerRetryAdvice(IssuerRegistry issuers) {
        this.issuers = issuers;
    }

    @Override
    public OptionalLong retryAfterSeconds(UnavailableException failure) {
        if (!(failure instanceof SigningException) || issuers.active().key().available()) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(SECONDS);
    }
}
