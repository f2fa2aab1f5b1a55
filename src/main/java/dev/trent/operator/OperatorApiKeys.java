package dev.trent.operator;

import java.util.Optional;

import org.springframework.stereotype.Component;

import dev.trent.security.ApiKeyAuthenticator;

/** The operator API's filter chains authenticate API keys here ({@link ApiKeyService#authenticate}). */
@Component
class OperatorApiKeys implements ApiKeyAuthenticator {

    private final ApiKeyService keys;

    OperatorApiKeys(ApiKeyService keys) {
        this.keys = keys;
    }

    @Override
    public Optional<Operator> authenticate(String presentedKey) {
        return keys.authenticate(presentedKey).map(p -> new Operator(p, p.role().name()));
    }
}
