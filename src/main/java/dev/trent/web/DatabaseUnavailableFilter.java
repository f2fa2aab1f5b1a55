package dev.trent.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/**
 * The outermost filter: a request that fails in a filter (API-key authentication reads
 * PostgreSQL before Spring MVC runs) because the database cannot be reached gets the same 503
 * problem+json with {@code Retry-After} as {@link DatabaseUnavailableResolver} gives in MVC; an
 * OCSP request gets an OCSP {@code tryLater} (RFC 6960 2.3), as OCSP answers only in OCSP.
 */
class DatabaseUnavailableFilter extends OncePerRequestFilter {

    /** OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED tryLater(3) } */
    private static final byte[] OCSP_TRY_LATER = {0x30, 0x03, 0x0a, 0x01, 0x03};
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final DatabaseUnavailable outage;

    DatabaseUnavailableFilter(DatabaseUnavailable outage) {
        this.outage = outage;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        try {
            chain.doFilter(request, response);
        } catch (ServletException | IOException | RuntimeException e) {
            boolean timedOut = DatabaseUnavailable.timedOut(e);
            if (!timedOut && !DatabaseUnavailable.causedBy(e) || response.isCommitted()) {
                throw e;
            }
            if (timedOut) {
                outage.timeoutLogged(request.getMethod() + " " + request.getRequestURI());
            } else {
                outage.logged(e, request.getMethod() + " " + request.getRequestURI());
            }
            write(request, response, timedOut);
        }
    }

    /**
     * The 503 problem+json (database-unavailable with Retry-After, or database-timeout without),
     * or for OCSP an OCSP tryLater.
     */
    static void write(HttpServletRequest request, HttpServletResponse response, boolean timedOut) throws IOException {
        response.reset();
        response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        if (!timedOut) {
            response.setHeader(HttpHeaders.RETRY_AFTER, DatabaseUnavailable.RETRY_AFTER_SECONDS);
        }
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        String path = request.getRequestURI();
        if (path.equals("/ocsp") || path.startsWith("/ocsp/")) {
            response.setStatus(HttpServletResponse.SC_OK); // RFC 6960 A.1: the status is in the body
            response.setContentType("application/ocsp-response");
            response.getOutputStream().write(OCSP_TRY_LATER);
            return;
        }
        var pd = (timedOut ? DatabaseUnavailable.timeoutProblem() : DatabaseUnavailable.problem()).toProblemDetail();
        java.util.Map<String, Object> body = new java.util.LinkedHashMap<>();
        body.put("type", pd.getType().toString());
        body.put("title", pd.getTitle());
        body.put("status", pd.getStatus());
        body.put("detail", pd.getDetail());
        body.put("instance", path);
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.getOutputStream().write(JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8));
    }

    @Configuration(proxyBeanMethods = false)
    static class Registration {
        @Bean
        FilterRegistrationBean<DatabaseUnavailableFilter> databaseUnavailableFilter(DatabaseUnavailable outage) {
            FilterRegistrationBean<DatabaseUnavailableFilter> bean = new FilterRegistrationBean<>(
                    new DatabaseUnavailableFilter(outage));
            bean.addUrlPatterns("/*");
            bean.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return bean;
        }
    }
}
