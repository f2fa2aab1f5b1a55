package dev.trent.security;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Authenticates operator requests by {@code Authorization: Bearer <API key>}. Enrollment tokens
 * are refused here outright, so the two kinds of credential can never stand in for each other.
 */
final class ApiKeyAuthenticationFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(ApiKeyAuthenticationFilter.class);

    private final ApiKeyAuthenticator apiKeys;
    private final dev.trent.audit.FailureBursts bursts;

    private final dev.trent.web.ClientErrorLog clientErrors;

    ApiKeyAuthenticationFilter(ApiKeyAuthenticator apiKeys, dev.trent.audit.FailureBursts bursts,
            dev.trent.web.ClientErrorLog clientErrors) {
        this.apiKeys = apiKeys;
        this.bursts = bursts;
        this.clientErrors = clientErrors;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String header = request.getHeader(HttpHeaders.AUTHORIZATION);
        if (header == null || header.isBlank()) {
            chain.doFilter(request, response);
            return;
        }
        Optional<String> credential = BearerTokens.credential(header);
        if (credential.isEmpty()) {
            unauthorized(request, response, "Send an API key as 'Authorization: Bearer <key>'.");
            return;
        }
        String presented = credential.get();
        if (presented.startsWith(Secrets.ENROLLMENT_TOKEN_PREFIX)) {
            clientErrors.refusedCredential(request, "Enrollment token presented to the operator API");
            bursts.failed(request.getRemoteAddr(), "api-key");
            unauthorized(request, response, "Enrollment tokens are not valid on the operator API; use an API key.");
            return;
        }
        Optional<ApiKeyAuthenticator.Operator> principal = apiKeys.authenticate(presented);
        if (principal.isEmpty()) {
            clientErrors.refusedCredential(request, "Unknown or revoked API key");
            bursts.failed(request.getRemoteAddr(), "api-key");
            unauthorized(request, response, "The API key is unknown or revoked.");
            return;
        }
        ApiKeyAuthenticator.Operator p = principal.get();
        UsernamePasswordAuthenticationToken auth = UsernamePasswordAuthenticationToken.authenticated(p.principal(),
                null, List.of(new SimpleGrantedAuthority("ROLE_" + p.role())));
        SecurityContext context = SecurityContextHolder.createEmptyContext();
        context.setAuthentication(auth);
        SecurityContextHolder.setContext(context);
        try {
            chain.doFilter(request, response);
        } finally {
            SecurityContextHolder.clearContext();
        }
    }

    private static void unauthorized(HttpServletRequest request, HttpServletResponse response, String detail)
            throws IOException {
        ProblemResponses.write(request, response, 401, "unauthorized", "Unauthorized", detail);
    }
}
