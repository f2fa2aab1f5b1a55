package dev.trent.ocsp;

import java.io.IOException;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Answers OCSP requests ahead of Spring Security's filter chain and Spring MVC: the responder
 * is public, takes no credentials, and parses its own path, so neither adds anything but time
 * (bench/README.md: OCSP). On by default; {@code trent.ocsp.fast-path=false} routes OCSP through
 * the normal stack ({@link OcspController}).
 */
class OcspFastPathFilter extends OncePerRequestFilter {

    private final OcspHttp http;

    OcspFastPathFilter(OcspHttp http) {
        this.http = http;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !OcspHttp.isOcspPath(request.getRequestURI());
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        http.handle(request, response);
    }

    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(name = "trent.ocsp.fast-path", havingValue = "true", matchIfMissing = true)
    static class Registration {
        @Bean
        FilterRegistrationBean<OcspFastPathFilter> ocspFastPath(OcspHttp http) {
            FilterRegistrationBean<OcspFastPathFilter> bean = new FilterRegistrationBean<>(new OcspFastPathFilter(http));
            bean.addUrlPatterns("/ocsp", "/ocsp/*");
            bean.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return bean;
        }
    }
}
