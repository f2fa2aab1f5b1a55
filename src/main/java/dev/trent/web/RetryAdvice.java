package dev.trent.web;

import java.util.OptionalLong;

import dev.trent.domain.UnavailableException;

/**
 * Whether the same request will succeed once a component is back, and after how many seconds to
 * try (RFC 9110 10.2.3 {@code Retry-After}); the ca package knows whether its key is reachable.
 */
public interface RetryAdvice {

    OptionalLong retryAfterSeconds(UnavailableException failure);
}
