package dev.trent.console;

import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.authentication.AuthenticationProvider;
import org.springframework.security.authentication.BadCredentialsException;
import org.springframework.security.authentication.ProviderManager;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.trent.audit.FailureBursts;
import dev.trent.operator.ApiKeyService;
import dev.trent.operator.OperatorPrincipal;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;

/**
 * The console's own filter chain, ahead of the API's stateless chains and matching only
 * {@code /console/**}: login with an operator API key (form field {@code apiKey}) starts a
 * server-side session; every state-changing form carries a CSRF token; roles are those of the
 * API (AUDITOR reads, OPERATOR revokes and makes tokens, ADMIN the rest). A failed login counts
 * toward the same failure burst as a wrong API key on the API ({@link FailureBursts}, kind
 * {@code api-key}). The session cookie is HttpOnly, SameSite=Strict, limited to
 * {@code /console}, and Secure on HTTPS (Tomcat sets it on secure requests); see
 * {@code server.servlet.session.*} in application.yml.
 *
 * <p>Pages load no script at all (CSP {@code script-src 'none'}), so the essential actions are
 * plain forms.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(ConsoleProperties.class)
class ConsoleSecurityConfiguration {

    static final String LOGIN_AT = ConsoleSecurityConfiguration.class.getName() + ".loginAt";
    static final String LAST_USED = ConsoleSecurityConfiguration.class.getName() + ".lastUsed";

    /**
     * How much longer than {@code trent.console.idle-timeout} the servlet container keeps an
     * unused session: {@link SessionLimits} ends it by the injected Clock; the container's own
     * (wall-clock) inactivity limit only frees the memory of sessions nobody comes back to.
     */
    static final java.time.Duration CONTAINER_GRACE = java.time.Duration.ofMinutes(1);

    static final String CSP = "default-src 'none'; script-src 'none'; style-src 'self'; img-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    @Bean
    @Order(0)
    SecurityFilterChain consoleChain(HttpSecurity http, ApiKeyService apiKeys, FailureBursts bursts,
            dev.trent.web.ClientErrorLog clientErrors, ConsoleProperties properties, Clock clock,
            dev.trent.audit.AuditLog audit) throws Exception {
        AuthenticationProvider byApiKey = new AuthenticationProvider() {
            @Override
            public Authentication authenticate(Authentication authentication) {
                Object credentials = authentication.getCredentials();
                String presented = credentials == null ? "" : credentials.toString().strip();
                OperatorPrincipal p = presented.isEmpty() ? null : apiKeys.authenticate(presented).orElse(null);
                if (p == null) {
                    throw new BadCredentialsException("unknown or revoked API key");
                }
                return UsernamePasswordAuthenticationToken.authenticated(p, null,
                        List.of(new SimpleGrantedAuthority("ROLE_" + p.role().name())));
            }

            @Override
            public boolean supports(Class<?> authentication) {
                return UsernamePasswordAuthenticationToken.class.isAssignableFrom(authentication);
            }
        };
        return http.securityMatcher("/console", "/console/**")
                .authenticationManager(new ProviderManager(byApiKey))
                .sessionManagement(s -> s.sessionCreationPolicy(SessionCreationPolicy.IF_REQUIRED)
                        .sessionFixation(f -> f.changeSessionId()))
                // The CSRF token lives in a cookie, not the session: an anonymous visit creates no
                // server-side state (the session starts at a successful login).
                .csrf(c -> c.csrfTokenRepository(csrfCookies()))
                .addFilterBefore(new LoginGate(), org.springframework.security.web.authentication
                        .UsernamePasswordAuthenticationFilter.class)
                .addFilterBefore(new ChannelAsSecureChannelSays(),
                        org.springframework.security.web.session.DisableEncodeUrlFilter.class)
                .formLogin(f -> f.loginPage("/console/login").loginProcessingUrl("/console/login")
                        .usernameParameter("operator").passwordParameter("apiKey")
                        .successHandler((req, res, auth) -> {
                            HttpSession session = req.getSession();
                            session.setMaxInactiveInterval(
                                    (int) properties.idleTimeout().plus(CONTAINER_GRACE).toSeconds());
                            Instant now = clock.instant();
                            session.setAttribute(LOGIN_AT, now);
                            session.setAttribute(LAST_USED, now);
                            if (req.isSecure()) {
                                // Tomcat marks its cookie Secure only on its own TLS listener;
                                // behind a trusted proxy this later copy (the one a browser keeps) is.
                                res.addHeader(org.springframework.http.HttpHeaders.SET_COOKIE,
                                        org.springframework.http.ResponseCookie.from("JSESSIONID", session.getId())
                                                .path("/console").httpOnly(true).secure(true).sameSite("Strict")
                                                .build().toString());
                            }
                            if (auth.getPrincipal() instanceof OperatorPrincipal p) {
                                audit.recordStandalone(p.actor(), "console.login", "api-key:" + p.apiKeyId(),
                                        java.util.Map.of("remoteAddress", req.getRemoteAddr()));
                            }
                            res.sendRedirect(req.getContextPath() + "/console/");
                        })
                        .failureHandler((req, res, e) -> {
                            // As the API's ApiKeyAuthenticationFilter: logged (rate-limited) and counted.
                            clientErrors.refusedCredential(req, "Console login with an unknown or revoked API key");
                            bursts.failed(req.getRemoteAddr(), "api-key");
                            HttpSession started = req.getSession(false);
                            if (started != null) {
                                started.invalidate();
                            }
                            res.sendRedirect(req.getContextPath() + "/console/login?error");
                        })
                        .permitAll())
                .logout(l -> l.logoutUrl("/console/logout").logoutSuccessUrl("/console/login?logout")
                        .invalidateHttpSession(true)
                        // deleteCookies would clear Path=/ (the context path); the cookie's path is /console.
                        .addLogoutHandler(new org.springframework.security.web.authentication.logout
                                .CookieClearingLogoutHandler(consoleCookie("JSESSIONID")))
                        .addLogoutHandler((req, res, auth) -> {
                            if (auth != null && auth.getPrincipal() instanceof OperatorPrincipal p) {
                                audit.recordStandalone(p.actor(), "console.logout", "api-key:" + p.apiKeyId(),
                                        java.util.Map.of("remoteAddress", req.getRemoteAddr()));
                            }
                        }))
                .httpBasic(b -> b.disable())
                .requestCache(r -> r.disable())
                .headers(h -> h.contentSecurityPolicy(c -> c.policyDirectives(CSP))
                        .referrerPolicy(r -> r.policy(ReferrerPolicyHeaderWriter.ReferrerPolicy.NO_REFERRER))
                        .frameOptions(f -> f.deny()))
                .addFilterAfter(new SessionLimits(properties, clock, apiKeys::active),
                        org.springframework.security.web.context.SecurityContextHolderFilter.class)
                .authorizeHttpRequests(a -> a
                        .dispatcherTypeMatchers(jakarta.servlet.DispatcherType.FORWARD,
                                jakarta.servlet.DispatcherType.ERROR).permitAll()
                        .requestMatchers("/console/login", "/console/static/**").permitAll()
                        .requestMatchers("/console/api-keys", "/console/api-keys/**", "/console/webhooks",
                                "/console/webhooks/**").hasRole("ADMIN")
                        .requestMatchers(HttpMethod.POST, "/console/logout").authenticated()
                        .requestMatchers(HttpMethod.POST, "/console/certificates/**", "/console/revoke/**",
                                "/console/tokens", "/console/tokens/**").hasRole("OPERATOR")
                        .requestMatchers(HttpMethod.GET, "/console", "/console/**").hasRole("AUDITOR")
                        .anyRequest().hasRole("ADMIN"))
                .exceptionHandling(e -> e.accessDeniedHandler((req, res, ex) -> {
                    res.setStatus(403);
                    req.getRequestDispatcher("/console/denied").forward(req, res);
                }))
                .build();
    }

    /** The CSRF cookie: HttpOnly (forms carry the token), SameSite=Strict, limited to the console; Secure on HTTPS. */
    static org.springframework.security.web.csrf.CookieCsrfTokenRepository csrfCookies() {
        org.springframework.security.web.csrf.CookieCsrfTokenRepository r =
                new org.springframework.security.web.csrf.CookieCsrfTokenRepository();
        r.setCookieName(CSRF_COOKIE);
        r.setCookiePath("/console");
        r.setCookieCustomizer(c -> c.httpOnly(true).sameSite("Strict"));
        return r;
    }

    static final String CSRF_COOKIE = "TRENT-CONSOLE-CSRF";

    /** A cookie that clears the console's cookie of this name (its path is /console). */
    static jakarta.servlet.http.Cookie consoleCookie(String name) {
        jakarta.servlet.http.Cookie c = new jakarta.servlet.http.Cookie(name, null);
        c.setPath("/console");
        c.setMaxAge(0);
        c.setHttpOnly(true);
        return c;
    }

    /**
     * The console's requests say {@code isSecure()} exactly when {@link dev.trent.tls.SecureChannel}
     * does (Trent's HTTPS listener or a trusted TLS-terminating proxy), so that its cookies are
     * Secure and HSTS is sent behind such a proxy as well.
     */
    static final class ChannelAsSecureChannelSays extends OncePerRequestFilter {

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws ServletException, IOException {
            boolean secure = dev.trent.tls.SecureChannel.secure(request);
            chain.doFilter(secure == request.isSecure() ? request
                    : new jakarta.servlet.http.HttpServletRequestWrapper(request) {
                        @Override
                        public boolean isSecure() {
                            return secure;
                        }
                    }, response);
        }
    }

    /**
     * Ahead of the login form's processing: refuses a login in clear text (an API key is a
     * secret: as {@link dev.trent.tls.SecureChannel#require}), and starts the session the login will use, so that a
     * full session store ({@code trent.console.max-sessions}, Tomcat's maxActiveSessions) is a
     * clear refusal on the login page rather than an error after authentication.
     */
    static final class LoginGate extends OncePerRequestFilter {

        @Override
        protected boolean shouldNotFilter(HttpServletRequest request) {
            return !"POST".equals(request.getMethod())
                    || !"/console/login".equals(request.getRequestURI().substring(request.getContextPath().length()));
        }

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws ServletException, IOException {
            if (!dev.trent.tls.SecureChannel.secure(request)) {
                response.sendRedirect(request.getContextPath() + "/console/login?tls");
                return;
            }
            try {
                request.getSession(true);
            } catch (IllegalStateException e) {
                // org.apache.catalina.session.TooManyActiveSessionsException
                response.sendRedirect(request.getContextPath() + "/console/login?busy");
                return;
            }
            chain.doFilter(request, response);
        }
    }

    /** Caps the servlet sessions (only the console has any): a login beyond it is refused by {@link LoginGate}. */
    @Bean
    org.springframework.boot.web.server.WebServerFactoryCustomizer<org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory> consoleSessionCap(
            ConsoleProperties properties) {
        return factory -> factory.addContextCustomizers(context -> {
            org.apache.catalina.session.StandardManager manager = new org.apache.catalina.session.StandardManager();
            manager.setMaxActiveSessions(properties.maxSessions());
            // No sessions written to disk at shutdown: a restart ends every console session.
            manager.setPathname(null);
            context.setManager(manager);
        });
    }

    /**
     * Ends a session {@code trent.console.idle-timeout} after its last request,
     * {@code trent.console.absolute-timeout} after its login however busy, and as soon as its API
     * key is revoked; both limits by the injected Clock (the servlet container's own inactivity
     * limit, a little longer, only reclaims abandoned sessions). A request that passes is the
     * session's last use.
     */
    static final class SessionLimits extends OncePerRequestFilter {

        private final ConsoleProperties properties;
        private final Clock clock;
        private final java.util.function.LongPredicate keyActive;

        /** @param keyActive whether the API key with this id is still valid */
        SessionLimits(ConsoleProperties properties, Clock clock, java.util.function.LongPredicate keyActive) {
            this.properties = properties;
            this.clock = clock;
            this.keyActive = keyActive;
        }

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws ServletException, IOException {
            HttpSession session = request.getSession(false);
            if (session != null && session.getAttribute(LOGIN_AT) instanceof Instant loginAt) {
                Authentication auth = org.springframework.security.core.context.SecurityContextHolder.getContext()
                        .getAuthentication();
                Instant now = clock.instant();
                Instant lastUsed = session.getAttribute(LAST_USED) instanceof Instant t ? t : loginAt;
                boolean expired = !now.isBefore(loginAt.plus(properties.absoluteTimeout()))
                        || !now.isBefore(lastUsed.plus(properties.idleTimeout()));
                boolean revoked = auth != null && auth.getPrincipal() instanceof OperatorPrincipal p
                        && !keyActive.test(p.apiKeyId());
                if (expired || revoked) {
                    session.invalidate();
                    org.springframework.security.core.context.SecurityContextHolder.clearContext();
                    response.sendRedirect(request.getContextPath() + "/console/login?expired");
                    return;
                }
                session.setAttribute(LAST_USED, now);
            }
            chain.doFilter(request, response);
        }
    }
}
