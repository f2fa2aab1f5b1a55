package dev.trent.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.net.UnknownHostException;
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
import org.springframework.web.filter.OncePerRequestFilter;

import dev.trent.config.TrentProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Behind a TLS-terminating reverse proxy: takes the client certificate from a header
 * ({@code trent.tls.client-cert-header}, e.g. nginx's {@code $ssl_client_escaped_cert}), but only
 * on connections from {@code trent.tls.trusted-proxies}; from anywhere else the header is
 * ignored. Off by default. A certificate from Trent's own TLS handshake always wins.
 */
public final class ProxyClientCertificateFilter extends OncePerRequestFilter {

    private static final Logger log = LoggerFactory.getLogger(ProxyClientCertificateFilter.class);
    static final String ATTRIBUTE = "jakarta.servlet.request.X509Certificate";

    private final String header;
    private final List<Cidr> trusted;

    ProxyClientCertificateFilter(String header, List<String> trustedProxies) {
        this.header = header;
        this.trusted = trustedProxies.stream().map(Cidr::parse).toList();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        boolean trustedProxy = fromTrustedProxy(request.getRemoteAddr());
        if (trustedProxy) {
            request.setAttribute(SecureChannel.TRUSTED_PROXY, Boolean.TRUE);
        }
        String value = request.getHeader(header);
        if (value != null && !value.isBlank() && request.getAttribute(ATTRIBUTE) == null) {
            if (trustedProxy) {
                X509Certificate[] certs = parse(value);
                if (certs != null) {
                    request.setAttribute(ATTRIBUTE, certs);
                }
            } else {
                log.warn("Ignoring {} from {}: not a trusted proxy", header, request.getRemoteAddr());
            }
        }
        chain.doFilter(request, response);
    }

    private boolean fromTrustedProxy(String remote) {
        try {
            InetAddress address = InetAddress.getByName(remote);
            return trusted.stream().anyMatch(c -> c.contains(address));
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** URL-encoded PEM (nginx), PEM with its line breaks turned into spaces, or bare base64 DER. */
    static X509Certificate[] parse(String value) {
        String text = value.contains("%") ? URLDecoder.decode(value, StandardCharsets.UTF_8) : value;
        try {
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

    /** An address or an address block ({@code 10.0.0.0/8}, {@code ::1}). */
    record Cidr(byte[] network, int bits) {
        static Cidr parse(String text) {
            String[] parts = text.strip().split("/");
            try {
                byte[] address = InetAddress.getByName(parts[0]).getAddress();
                int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : address.length * 8;
                if (bits < 0 || bits > address.length * 8) {
                    throw new NumberFormatException("prefix length " + bits);
                }
                return new Cidr(address, bits);
            } catch (UnknownHostException | NumberFormatException e) {
                throw new IllegalArgumentException("trent.tls.trusted-proxies: '" + text + "' is not an address or "
                        + "CIDR block", e);
            }
        }

        boolean contains(InetAddress address) {
            byte[] a = address.getAddress();
            if (a.length != network.length) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >> (i % 8);
                if ((a[i / 8] & mask) != (network[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Registers the filter ahead of everything else when a header is configured. */
    @Configuration(proxyBeanMethods = false)
    static class Registration {
        @Bean
        FilterRegistrationBean<ProxyClientCertificateFilter> proxyClientCertificate(TrentProperties properties) {
            TrentProperties.Tls tls = properties.tls();
            boolean on = tls.clientCertHeader() != null && !tls.clientCertHeader().isBlank();
            FilterRegistrationBean<ProxyClientCertificateFilter> r = new FilterRegistrationBean<>(
                    new ProxyClientCertificateFilter(on ? tls.clientCertHeader() : "X-Trent-Unused",
                            on ? tls.trustedProxies() : List.of()));
            r.setEnabled(on);
            r.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return r;
        }
    }
}
