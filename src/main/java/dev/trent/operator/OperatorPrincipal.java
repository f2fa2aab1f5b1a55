package dev.trent.operator;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/** The operator behind an authenticated API request. */
public record OperatorPrincipal(long apiKeyId, String name, Role role) {

    /** How audit events name this operator. */
    public String actor() {
        return "api-key:" + apiKeyId + ":" + name;
    }

    /** The operator of the current request, for audit events. */
    public static OperatorPrincipal current() {
        Authentication auth = SecurityContextHolder.getContext().getAuthentication();
        if (auth != null && auth.getPrincipal() instanceof OperatorPrincipal p) {
            return p;
        }
        throw new IllegalStateException("no authenticated operator in this request");
    }
}
