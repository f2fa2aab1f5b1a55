package dev.trent.security;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.access.hierarchicalroles.RoleHierarchy;
import org.springframework.security.access.hierarchicalroles.RoleHierarchyImpl;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.authentication.AnonymousAuthenticationFilter;


/**
 * Separate filter chains for separate surfaces. Devices: enrollment, authenticated by one-time
 * tokens inside the enrollment transaction. Public: CA certificates, CRL, OCSP and the liveness
 * probe. Actuator: health (public; details for an API key) and Prometheus metrics (API key,
 * AUDITOR or higher). Operators: everything else under {@code /api/v1}, by API key and role. A
 * test checks that every mapped path falls under one of the explicit chains.
 */
@Configuration(proxyBeanMethods = false)
class SecurityConfiguration {

    /**
     * Paths served to anyone: CA certificates, the CRL and OCSP endpoints, the API's
     * documentation, and the liveness probe (which never looks at credentials, so it cannot
     * depend on PostgreSQL, where API keys live).
     */
    static final String[] PUBLIC_PATHS = {"/api/v1/ca/**", "/ca/**", "/crl/**", "/ocsp", "/ocsp/**", "/error",
        "/openapi.yaml", "/swagger-ui.html", "/swagger-ui/**", "/v3/api-docs/swagger-config",
        "/actuator/health/liveness", "/.well-known/est/cacerts", "/.well-known/est/*/cacerts",
        "/.well-known/est/csrattrs", "/.well-known/est/*/csrattrs"};
    /**
     * Actuator: health and its groups for anyone (status only; details for an API key, see
     * {@code management.endpoint.health.show-details}), metrics for an API key. Other actuator
     * paths fall through to the fallback chain (404).
     */
    static final String[] ACTUATOR_PATHS = {"/actuator/health", "/actuator/health/**", "/actuator/prometheus"};
    static final String[] DEVICE_PATHS = DevicePaths.PATTERNS.toArray(String[]::new);
    static final String OPERATOR_PATHS = "/api/v1/**";


    /**
     * OCSP GET requests carry base64 in the path (RFC 6960 A.1), which may contain '/', "//" and
     * their encoding %2F. The firewall lets those through; every other check (";", "%25",
     * "..", backslashes, non-printables) stays. Path matching works on decoded segments, so an
     * encoded slash never crosses a segment boundary elsewhere.
     */
    @Bean
    static org.springframework.security.web.firewall.HttpFirewall httpFirewall() {
        org.springframework.security.web.firewall.StrictHttpFirewall f =
                new org.springframework.security.web.firewall.StrictHttpFirewall();
        f.setAllowUrlEncodedSlash(true);
        f.setAllowUrlEncodedDoubleSlash(true);
        // The firewall's own character rules, without its regular expressions (measured).
        f.setAllowedHeaderNames(HeaderCharacters.NAMES);
        f.setAllowedHeaderValues(HeaderCharacters.VALUES);
        f.setAllowedParameterNames(HeaderCharacters.NAMES);
        return f;
    }

    /**
     * A request the firewall refuses ({@code /../}, {@code ;}, a lower-case method...) is a 400
     * saying why; Tomcat's error report ({@code web.ProblemErrorReportValve}) writes it as
     * problem+json (OCSP under {@code /ocsp}).
     */
    @Bean
    static org.springframework.security.web.firewall.RequestRejectedHandler requestRejectedHandler() {
        return (request, response, e) -> response.sendError(400, e.getMessage());
    }

    /** Tomcat decodes %2F (for OCSP GET; the controller reads the raw URI) instead of rejecting the request. */
    @Bean
    static org.springframework.boot.tomcat.TomcatConnectorCustomizer encodedSlashPassthrough() {
        return connector -> connector.setEncodedSolidusHandling("decode");
    }

    /**
     * No Micrometer observations of Spring Security's filters, authentication and authorization:
     * Trent exports no traces, its metrics are its own (trent.*, http.server.requests), and the
     * observation wrapper around each of the chain's filters was about 4% of an enrollment's CPU
     * (a JFR profile of the enrollment load, bench/README.md).
     */
    @Bean
    static org.springframework.security.config.observation.SecurityObservationSettings securityObservations() {
        return org.springframework.security.config.observation.SecurityObservationSettings.noObservations();
    }

    @Bean
    static RoleHierarchy roleHierarchy() {
        return RoleHierarchyImpl.fromHierarchy("ROLE_ADMIN > ROLE_OPERATOR\nROLE_OPERATOR > ROLE_AUDITOR");
    }

    @Bean
    @Order(1)
    SecurityFilterChain deviceChain(HttpSecurity http) throws Exception {
        return open(http.securityMatcher(DEVICE_PATHS)).build();
    }

    @Bean
    @Order(2)
    SecurityFilterChain publicChain(HttpSecurity http) throws Exception {
        return open(http.securityMatcher(PUBLIC_PATHS)).build();
    }

    /**
     * Health answers anyone; an API key (any role) is authenticated here so that health shows
     * its details to it, and a wrong key is a 401 rather than silently anonymous. Metrics need
     * AUDITOR or higher.
     */
    @Bean
    @Order(3)
    SecurityFilterChain actuatorChain(HttpSecurity http, ApiKeyAuthenticator apiKeys, dev.trent.audit.FailureBursts bursts,
            dev.trent.web.ClientErrorLog clientErrors)
            throws Exception {
        return stateless(http.securityMatcher(ACTUATOR_PATHS))
                .addFilterBefore(new ApiKeyAuthenticationFilter(apiKeys, bursts, clientErrors), AnonymousAuthenticationFilter.class)
                .authorizeHttpRequests(a -> a
                        .requestMatchers("/actuator/prometheus").hasRole("AUDITOR")
                        .anyRequest().permitAll())
                .exceptionHandling(SecurityConfiguration::apiKeyProblems)
                .build();
    }

    @Bean
    @Order(4)
    SecurityFilterChain operatorChain(HttpSecurity http, ApiKeyAuthenticator apiKeys, dev.trent.audit.FailureBursts bursts,
            dev.trent.web.ClientErrorLog clientErrors)
            throws Exception {
        return stateless(http.securityMatcher(OPERATOR_PATHS))
                .addFilterBefore(new ApiKeyAuthenticationFilter(apiKeys, bursts, clientErrors), AnonymousAuthenticationFilter.class)
                .authorizeHttpRequests(a -> a
                        .requestMatchers("/api/v1/api-keys", "/api/v1/api-keys/**").hasRole("ADMIN")
                        .requestMatchers("/api/v1/webhooks", "/api/v1/webhooks/**").hasRole("ADMIN")
                        .requestMatchers(HttpMethod.POST, "/api/v1/enrollment-tokens", "/api/v1/enrollment-tokens/**")
                        .hasRole("OPERATOR")
                        .requestMatchers(HttpMethod.POST, "/api/v1/certificates/**").hasRole("OPERATOR")
                        .requestMatchers(HttpMethod.GET, "/api/v1/certificates", "/api/v1/certificates/**")
                        .hasRole("AUDITOR")
                        .requestMatchers(HttpMethod.GET, "/api/v1/issuers", "/api/v1/manufacturer-cas", "/api/v1/audit",
                                "/api/v1/audit/verify").hasRole("AUDITOR")
                        .anyRequest().hasRole("ADMIN"))
                .exceptionHandling(SecurityConfiguration::apiKeyProblems)
                .build();
    }

    /** 401 and 403 of the chains that take API keys, as problem+json. */
    private static void apiKeyProblems(
            org.springframework.security.config.annotation.web.configurers.ExceptionHandlingConfigurer<HttpSecurity> e) {
        e.authenticationEntryPoint((req, res, ex) -> ProblemResponses.write(req, res, 401, "unauthorized",
                "Unauthorized", "Send an API key as 'Authorization: Bearer <key>'."))
                .accessDeniedHandler((req, res, ex) -> ProblemResponses.write(req, res, 403, "forbidden", "Forbidden",
                        "This API key's role does not allow this operation."));
    }

    /** Whatever no other chain claims: denied, so that a new endpoint is never public by accident. */
    @Bean
    @Order(5)
    SecurityFilterChain fallbackChain(HttpSecurity http) throws Exception {
        return stateless(http)
                .authorizeHttpRequests(a -> a.anyRequest().denyAll())
                .exceptionHandling(e -> e
                        .authenticationEntryPoint((req, res, ex) -> ProblemResponses.write(req, res, 404, "not-found",
                                "Not found", "No such resource."))
                        .accessDeniedHandler((req, res, ex) -> ProblemResponses.write(req, res, 404, "not-found",
                                "Not found", "No such resource.")))
                .build();
    }

    /**
     * A chain whose every request is admitted and nobody is authenticated by Spring Security
     * (devices prove themselves with their token or certificate inside the enrollment; CA
     * certificates, CRLs and OCSP are public): it keeps what shapes the response, the security
     * headers, and the stateless context of {@link #stateless}. It leaves out the filters that
     * would only admit everyone (authorization with {@code permitAll}), set an anonymous
     * authentication nothing reads, wrap the request for the servlet API's security methods
     * nothing calls, and translate security exceptions nothing throws there: work on every
     * enrollment and OCSP request that changed no answer.
     */
    private static HttpSecurity open(HttpSecurity http) throws Exception {
        return stateless(http)
                .anonymous(a -> a.disable())
                .servletApi(s -> s.disable())
                .exceptionHandling(e -> e.disable());
    }

    private static HttpSecurity stateless(HttpSecurity http) throws Exception {
        return http.csrf(c -> c.disable())
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .httpBasic(b -> b.disable())
                .formLogin(f -> f.disable())
                .logout(l -> l.disable())
                .requestCache(r -> r.disable())
                .anonymous(a -> { });
    }
}
