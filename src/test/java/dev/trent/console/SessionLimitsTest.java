package dev.trent.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.mock.web.MockHttpSession;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;

import dev.trent.operator.OperatorPrincipal;
import dev.trent.operator.Role;

/** The console session's idle and absolute limits and its end with its API key, on an exact clock. */
class SessionLimitsTest {

    private static final Instant LOGIN = Instant.parse("2026-12-01T08:00:00Z");
    private final ConsoleProperties properties = new ConsoleProperties(Duration.ofMinutes(15), Duration.ofHours(8), 1000);
    private final AtomicBoolean keyActive = new AtomicBoolean(true);

    @AfterEach
    void clear() {
        SecurityContextHolder.clearContext();
    }

    /** Runs one request of a session logged in at LOGIN, at {@code now}; true when it went through. */
    private boolean request(Instant now, MockHttpSession session) throws Exception {
        SecurityContextHolder.getContext().setAuthentication(UsernamePasswordAuthenticationToken.authenticated(
                new OperatorPrincipal(7, "ops", Role.OPERATOR), null, List.of()));
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/console/");
        request.setSession(session);
        MockHttpServletResponse response = new MockHttpServletResponse();
        MockFilterChain chain = new MockFilterChain();
        new ConsoleSecurityConfiguration.SessionLimits(properties, Clock.fixed(now, ZoneOffset.UTC),
                id -> id == 7 && keyActive.get()).doFilter(request, response, chain);
        if (chain.getRequest() == null) {
            assertThat(response.getRedirectedUrl()).isEqualTo("/console/login?expired");
            return false;
        }
        return true;
    }

    private static MockHttpSession session() {
        MockHttpSession s = new MockHttpSession();
        s.setAttribute(ConsoleSecurityConfiguration.LOGIN_AT, LOGIN);
        return s;
    }

    /** Keeps the session busy (a request every 10 minutes) from LOGIN until just before {@code until}. */
    private Instant keepBusy(MockHttpSession s, Instant until) throws Exception {
        Instant t = LOGIN;
        while (t.plus(Duration.ofMinutes(10)).isBefore(until)) {
            t = t.plus(Duration.ofMinutes(10));
            assertThat(request(t, s)).as(t.toString()).isTrue();
        }
        return t;
    }

    @Test
    void requestWhenBusyUntilJustBeforeTheAbsoluteLimitThenPasses() throws Exception {
        MockHttpSession s = session();
        keepBusy(s, LOGIN.plus(Duration.ofHours(8)));
        assertThat(request(LOGIN.plus(Duration.ofHours(8)).minusSeconds(1), s)).isTrue();
        assertThat(s.isInvalid()).isFalse();
    }

    @Test
    void requestWhenAbsoluteLimitReachedThenSessionInvalidatedAndSentToLoginHoweverBusy() throws Exception {
        MockHttpSession s = session();
        keepBusy(s, LOGIN.plus(Duration.ofHours(8)));
        assertThat(request(LOGIN.plus(Duration.ofHours(8)), s)).isFalse();
        assertThat(s.isInvalid()).isTrue();
        assertThat(SecurityContextHolder.getContext().getAuthentication()).isNull();
    }

    @Test
    void requestWhenUnusedForLessThanTheIdleLimitThenPassesAndCountsAsUse() throws Exception {
        MockHttpSession s = session();
        Instant used = LOGIN.plus(Duration.ofMinutes(15)).minusSeconds(1);
        assertThat(request(used, s)).isTrue();
        assertThat(s.getAttribute(ConsoleSecurityConfiguration.LAST_USED)).isEqualTo(used);
        // 29 minutes after the login, but 14 after the last request
        assertThat(request(used.plus(Duration.ofMinutes(15)).minusSeconds(1), s)).isTrue();
    }

    @Test
    void requestWhenUnusedForTheIdleLimitThenSessionInvalidatedAndSentToLogin() throws Exception {
        MockHttpSession s = session();
        Instant used = LOGIN.plus(Duration.ofMinutes(5));
        assertThat(request(used, s)).isTrue();

        assertThat(request(used.plus(Duration.ofMinutes(15)), s)).isFalse();

        assertThat(s.isInvalid()).isTrue();
        assertThat(SecurityContextHolder.getContext().getAuthentication()).isNull();
    }

    @Test
    void requestWhenNoRequestSinceTheLoginForTheIdleLimitThenSessionEnds() throws Exception {
        MockHttpSession s = session();
        assertThat(request(LOGIN.plus(Duration.ofMinutes(15)), s)).isFalse();
        assertThat(s.isInvalid()).isTrue();
    }

    @Test
    void requestWhenApiKeyRevokedThenSessionEnds() throws Exception {
        MockHttpSession s = session();
        assertThat(request(LOGIN.plusSeconds(60), s)).isTrue();
        keyActive.set(false);
        assertThat(request(LOGIN.plusSeconds(120), s)).isFalse();
        assertThat(s.isInvalid()).isTrue();
    }
}
