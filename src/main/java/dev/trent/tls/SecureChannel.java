package dev.trent.tls;

import dev.trent.domain.DomainException;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Operations that carry a password (EST's HTTP Basic with an enrollment token) or hand out a
 * private key must not run in clear text: only on Trent's HTTPS listener, or from a trusted
 * TLS-terminating proxy ({@code trent.tls.trusted-proxies}).
 */
public final class SecureChannel {

    /** Set by {@link ProxyClientCertificateFilter} on requests from a trusted proxy. */
    static final String TRUSTED_PROXY = "dev.trent.tls.trustedProxy";

    private SecureChannel() {
    }

    /**
     * Whether the request came over TLS: Trent's HTTPS listener, or a trusted TLS-terminating
     * proxy. The one rule for every part that needs to know (the console too).
     */
    public static boolean secure(HttpServletRequest request) {
        return request.isSecure() || Boolean.TRUE.equals(request.getAttribute(TRUSTED_PROXY));
    }

    public static void require(HttpServletRequest request) {
        if (secure(request)) {
            return;
        }
        throw DomainException.forbidden("tls-required", "TLS required",
                "This operation carries a secret (an enrollment token, or a private key in the answer); use Trent's "
                        + "HTTPS listener (trent.tls.port) or a trusted TLS-terminating proxy.");
    }
}
