package dev.trent.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Which peers count as trusted proxies ({@code trent.tls.trusted-proxies}), and when they count as TLS. */
class ProxyClientCertificateFilterTest {

    private final ProxyClientCertificateFilter filter = new ProxyClientCertificateFilter("X-Client-Cert",
            List.of("10.0.0.0/8", " 192.0.2.7 ", "2001:db8:aa00::/40", "::1", "172.16.0.0/12"));

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "10.0.0.1, true", "10.255.255.255, true", "11.0.0.1, false", "9.255.255.255, false",
        "192.0.2.7, true", "192.0.2.8, false",
        "172.16.0.1, true", "172.31.255.254, true", "172.32.0.1, false",
        "2001:db8:aa00::1, true", "2001:db8:aaff:ffff::1, true", "2001:db8:ab00::1, false",
        "0:0:0:0:0:0:0:1, true", "::2, false",
        "::ffff:10.1.2.3, true", // IPv4-mapped: the IPv4 address it carries
        "127.0.0.1, false"})
    void fromTrustedProxyWhenAddressThenMatchesItsBlocks(String remote, boolean trusted) {
        assertThat(filter.fromTrustedProxy(remote)).isEqualTo(trusted);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "proxy.example", "not an address"})
    void fromTrustedProxyWhenPeerIsNoAddressLiteralThenNotTrusted(String remote) {
        assertThat(filter.fromTrustedProxy(remote)).isFalse();
        assertThat(filter.fromTrustedProxy(null)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/x", "proxy.example", "10.0.0.0/"})
    void trustedProxyWhenNotAnAddressOrBlockThenRefusedNamingIt(String entry) {
        assertThatThrownBy(() -> ProxyClientCertificateFilter.trustedProxy(entry))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("trent.tls.trusted-proxies: '" + entry + "' is not an address or CIDR block");
    }

    @ParameterizedTest
    @ValueSource(strings = {"%zz", "-----BEGIN%20CERTIFICATE-----%0AMII%", "MIIB%4", "%", "not base64 at all"})
    void parseWhenEscapeOrContentBrokenThenNull(String value) {
        assertThat(ProxyClientCertificateFilter.parse(value)).isNull();
    }

    @Test
    void doFilterWhenTrustedProxySendsABrokenEscapeThenHeaderIgnoredAndRequestContinues() throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/api/v1/renew");
        request.setRemoteAddr("10.0.0.1");
        request.addHeader("X-Client-Cert", "-----BEGIN%20CERTIFICATE-----%0A%zz");
        MockFilterChain chain = new MockFilterChain();

        filter.doFilter(request, new MockHttpServletResponse(), chain);

        assertThat(chain.getRequest()).isSameAs(request);
        assertThat(request.getAttribute(ProxyClientCertificateFilter.ATTRIBUTE)).isNull();
        assertThat(request.getAttribute(SecureChannel.TRUSTED_PROXY)).isEqualTo(Boolean.TRUE);
    }

    /** Whether {@link SecureChannel} takes a request from {@code remote} with these X-Forwarded-Proto values as TLS. */
    private static boolean secure(ProxyClientCertificateFilter filter, String remote, String... forwardedProto)
            throws Exception {
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/console/login");
        request.setRemoteAddr(remote);
        for (String p : forwardedProto) {
            request.addHeader(ProxyClientCertificateFilter.FORWARDED_PROTO, p);
        }
        MockFilterChain chain = new MockFilterChain();
        filter.doFilter(request, new MockHttpServletResponse(), chain);
        assertThat(chain.getRequest()).isSameAs(request);
        return SecureChannel.secure(request);
    }

    @Test
    void doFilterWhenTrustedProxySaysNothingOrHttpsThenTls() throws Exception {
        assertThat(secure(filter, "10.0.0.1")).isTrue();
        assertThat(secure(filter, "10.0.0.1", "https")).isTrue();
        assertThat(secure(filter, "10.0.0.1", "HTTPS")).isTrue();
        assertThat(secure(filter, "10.0.0.1", "https, https")).isTrue();
    }

    @Test
    void doFilterWhenTrustedProxySaysTheClientUsedHttpThenNotTls() throws Exception {
        assertThat(secure(filter, "10.0.0.1", "http")).isFalse();
        assertThat(secure(filter, "10.0.0.1", "https, http")).as("one hop in clear text").isFalse();
        assertThat(secure(filter, "10.0.0.1", "https", "http")).isFalse();
        assertThat(secure(filter, "10.0.0.1", "")).as("unreadable: not TLS").isFalse();
    }

    @Test
    void doFilterWhenNotATrustedProxyThenItsForwardedProtoCountsForNothing() throws Exception {
        assertThat(secure(filter, "11.0.0.1", "https")).isFalse();
        assertThat(secure(filter, "11.0.0.1")).isFalse();
    }

    @Test
    void doFilterWhenNoClientCertificateHeaderConfiguredThenProxyStillTlsAndNoCertificateTaken() throws Exception {
        ProxyClientCertificateFilter noHeader = new ProxyClientCertificateFilter(null, List.of("10.0.0.0/8"));
        MockHttpServletRequest request = new MockHttpServletRequest("POST", "/api/v1/renew");
        request.setRemoteAddr("10.0.0.1");
        request.addHeader("X-Client-Cert", "MIIB");
        MockFilterChain chain = new MockFilterChain();

        noHeader.doFilter(request, new MockHttpServletResponse(), chain);

        assertThat(chain.getRequest()).isSameAs(request);
        assertThat(SecureChannel.secure(request)).isTrue();
        assertThat(request.getAttribute(ProxyClientCertificateFilter.ATTRIBUTE)).isNull();
    }
}
