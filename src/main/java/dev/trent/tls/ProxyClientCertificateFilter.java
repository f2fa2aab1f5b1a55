package dev.trent.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.security.web.util.matcher.IpAddressMatcher;
import org.springframework.web.filter.OncePerRequestFilter;

import dev.trent.config.TrentProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Behind a TLS-terminating reverse proxy ({@code trent.tls.trusted-proxies}; off by default): a
 * request from a trusted proxy counts as TLS for {@link SecureChannel} unless the proxy says the
 * client used plain HTTP ({@code X-Forwarded-Proto} other than {@code https}); and, when
 * {@code trent.tls.client-cert-header} is set, the client certificate is taken from that header
 * (e.g. nginx's {@code $ssl_client_escaped_cert}), but only on connections from a trusted proxy;
 * from anywhere else the header is ignored. A certificate from Trent's own TLS handshake always
 * wins.
 */
public final class ProxyClientCertificateFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(ProxyClientCertificateFilter.class);
    static final String ATTRIBUTE = "jakarta.servlet.request.X509Certificate";

    /** The scheme the client used with the proxy (RFC 7239's de-facto predecessor, as nginx's {@code $scheme}). */
    static final String FORWARDED_PROTO = "X-Forwarded-Proto";

    /** The client certificate's header, or null (the proxy forwards none). */
    private final String header;
    private final List<IpAddressMatcher> trusted;

    /** Logs the ignored headers under the client-error line limit, when set. */
    private final dev.trent.web.ClientErrorLog clientErrors;

    ProxyClientCertificateFilter(String header, List<String> trustedProxies) {
        this(header, trustedProxies, null);
    }

    ProxyClientCertificateFilter(String header, List<String> trustedProxies, dev.trent.web.ClientErrorLog clientErrors) {
        this.header = header;
        this.trusted = trustedProxies.stream().map(ProxyClientCertificateFilter::trustedProxy).toList();
        this.clientErrors = clientErrors;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        boolean trustedProxy = fromTrustedProxy(request.getRemoteAddr());
        if (trustedProxy && tlsToTheProxy(request)) {
            request.setAttribute(SecureChannel.TRUSTED_PROXY, Boolean.TRUE);
        }
        String value = header == null ? null : request.getHeader(header);
        if (value != null && !value.isBlank() && request.getAttribute(ATTRIBUTE) == null) {
            if (trustedProxy) {
                X509Certificate[] certs = parse(value);
                if (certs != null) {
                    request.setAttribute(ATTRIBUTE, certs);
                }
            } else {
                if (clientErrors != null) {
                    clientErrors.refusedCredential(request, "Ignoring " + header + ": not from a trusted proxy");
                } else {
                    log.warn("Ignoring {} from {}: not a trusted proxy", header, request.getRemoteAddr());
                }
            }
        }
        chain.doFilter(request, response);
    }

    /**
     * Whether the client reached the trusted proxy over TLS: yes unless the proxy says otherwise,
     * i.e. every {@code X-Forwarded-Proto} value (one per proxy of a chain) is {@code https}, or
     * there is none (a proxy that only terminates TLS need not send it). A proxy that also serves
     * plain HTTP must send it ({@code proxy_set_header X-Forwarded-Proto $scheme}), or an API key
     * typed into its HTTP side would be accepted. Only read from a trusted proxy.
     */
    static boolean tlsToTheProxy(HttpServletRequest request) {
        java.util.Enumeration<String> values = request.getHeaders(FORWARDED_PROTO);
        while (values != null && values.hasMoreElements()) {
            for (String proto : values.nextElement().split(",")) {
                if (!"https".equals(proto.strip().toLowerCase(java.util.Locale.ROOT))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Whether the connection's peer ({@code getRemoteAddr()}, an address literal) is a trusted proxy. */
    boolean fromTrustedProxy(String remote) {
        try {
            return remote != null && trusted.stream().anyMatch(m -> m.matches(remote));
        } catch (IllegalArgumentException e) {
            return false; // not an address literal (e.g. a Unix domain socket's peer)
        }
    }

    /**
     * URL-encoded PEM (nginx), PEM with its line breaks turned into spaces, or bare base64 DER;
     * null (the header is ignored, with a warning) when unreadable, a broken %-escape included.
     * The JDK's {@link URLDecoder} decodes: a form-style '+' for a space in the PEM boundaries is
     * read too (base64's own '+' arrives as %2B from nginx).
     */
    static X509Certificate[] parse(String value) {
        try {
            String text = value.contains("%") ? URLDecoder.decode(value, StandardCharsets.UTF_8) : value;
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            if (text.contains("-----BEGIN CERTIFICATE-----")) {
                String normalized = text.replace("-----BEGIN CERTIFICATE-----", "\n-----BEGIN CERTIFICATE-----\n")
                        .replace("-----END CERTIFICATE-----", "\n-----END CERTIFICATE-----\n");
                StringBuilder pem = new StringBuilder();
                for (String line : normalized.split("\n")) {
                    String l = line.strip();
                    pem.append(l.startsWith("-----") ? l + "\n" : l.replace(" ", "") + "\n");
                }
                for (java.security.cert.Certificate c : cf.generateCertificates(
                        new ByteArrayInputStream(pem.toString().getBytes(StandardCharsets.US_ASCII)))) {
                    out.add((X509Certificate) c);
                }
            } else {
                out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(
                        Base64.getMimeDecoder().decode(text))));
            }
            return out.isEmpty() ? null : out.toArray(new X509Certificate[0]);
        } catch (CertificateException | IllegalArgumentException e) {
            log.warn("Client certificate header cannot be read: {}", e.getMessage());
            return null;
        }
    }

    /**
     * An address or an address block ({@code 10.0.0.0/8}, {@code ::1}) from
     * {@code trent.tls.trusted-proxies}; host names are refused (no DNS lookup decides trust).
     */
    static IpAddressMatcher trustedProxy(String text) {
        String entry = text.strip();
        try {
            if (entry.contains("/-")) {
                throw new IllegalArgumentException("negative prefix length");
            }
            return new IpAddressMatcher(entry);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("trent.tls.trusted-proxies: '" + text + "' is not an address or "
                    + "CIDR block", e);
        }
    }

    /** Registers the filter ahead of everything else when trusted proxies are configured. */
    @Configuration(proxyBeanMethods = false)
    static class Registration {
        @Bean
        FilterRegistrationBean<ProxyClientCertificateFilter> proxyClientCertificate(TrentProperties properties,
                dev.trent.web.ClientErrorLog clientErrors) {
            TrentProperties.Tls tls = properties.tls();
            boolean on = !tls.trustedProxies().isEmpty();
            boolean header = tls.clientCertHeader() != null && !tls.clientCertHeader().isBlank();
            FilterRegistrationBean<ProxyClientCertificateFilter> r = new FilterRegistrationBean<>(
                    new ProxyClientCertificateFilter(header ? tls.clientCertHeader().strip() : null,
                            tls.trustedProxies(), clientErrors));
            r.setEnabled(on);
            r.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return r;
        }
    }
}
