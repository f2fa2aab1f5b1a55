package dev.trent.console;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

import jakarta.servlet.http.HttpSession;

/** The console login's session start: a full session store refuses the login plainly. */
class LoginGateTest {

    @Test
    void loginWhenSessionStoreFullThenRedirectedToLoginBusy() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/console/login") {
            @Override
            public HttpSession getSession(boolean create) {
                if (create) {
                    // as org.apache.catalina.session.TooManyActiveSessionsException
                    throw new IllegalStateException("too many active sessions");
                }
                return null;
            }
        };
        request.setSecure(true);
        MockHttpServletResponse response = new MockHttpServletResponse();
        MockFilterChain chain = new MockFilterChain();

        new ConsoleSecurityConfiguration.LoginGate().doFilter(request, response, chain);

        assertThat(chain.getRequest()).as("the login is not attempted").isNull();
        assertThat(response.getRedirectedUrl()).isEqualTo("/console/login?busy");
    }

    @Test
    void loginWhenPlainHttpNotFromATrustedProxyThenRefusedBeforeAnySession() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/console/login");
        MockHttpServletResponse response = new MockHttpServletResponse();
        MockFilterChain chain = new MockFilterChain();

        new ConsoleSecurityConfiguration.LoginGate().doFilter(request, response, chain);

        assertThat(chain.getRequest()).as("the API key is not even looked at").isNull();
        assertThat(response.getRedirectedUrl()).isEqualTo("/console/login?tls");
        assertThat(request.getSession(false)).isNull();
    }

    @Test
    void loginWhenRoomThenSessionStartedAndLoginProceeds() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/console/login");
        request.setSecure(true);
        MockFilterChain chain = new MockFilterChain();

        new ConsoleSecurityConfiguration.LoginGate().doFilter(request, new MockHttpServletResponse(), chain);

        assertThat(chain.getRequest()).isSameAs(request);
        assertThat(request.getSession(false)).isNotNull();
    }

    @Test
    void getWhenLoginPageThenNoSession() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", "/console/login");
        MockFilterChain chain = new MockFilterChain();

        new ConsoleSecurityConfiguration.LoginGate().doFilter(request, new MockHttpServletResponse(), chain);

        assertThat(chain.getRequest()).isSameAs(request);
        assertThat(request.getSession(false)).isNull();
    }
}
