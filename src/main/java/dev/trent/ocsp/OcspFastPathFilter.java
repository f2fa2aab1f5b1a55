package dev.trent.ocsp;

import java.io.IOException;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * Answers OCSP requests ahead of Spring Security's filter chain and Spring MVC: the responder
 * is public, takes no credentials, and parses its own path, so neither adds anything but time
 * (bench/README.md: OCSP). On by default; {@code trent.ocsp.fast-path=false} routes OCSP GET and
 * POST through the normal stack ({@link OcspController}).
 *
 * <p>A plain servlet filter, registered for request dispatches only: it answers and never
 * passes an OCSP request on, so the once-per-request bookkeeping of Spring's
 * {@code OncePerRequestFilter} (a request attribute set and removed, the dispatch type checked)
 * would be work for nothing on the responder's cheapest path (bench/README.md, "Pre-signed OCSP
 * under the smaller inlining").
 */
class OcspFastPathFilter implements Filter {

    private final OcspHttp http;
    private final boolean fastPath;

    OcspFastPathFilter(OcspHttp http, boolean fastPath) {
        this.http = http;
        this.fastPath = fastPath;
    }

    /**
     * With the fast path off, GET and POST go to {@link OcspController}; the other methods are
     * still answered here, so that they get a 405 in OCSP rather than Spring MVC's.
     */
    boolean answersHere(HttpServletRequest request) {
        if (!OcspHttp.isOcspPath(request.getRequestURI())) {
            return false;
        }
        String method = request.getMethod();
        return fastPath || !"GET".equals(method) && !"POST".equals(method);
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        if (request instanceof HttpServletRequest httpRequest && response instanceof HttpServletResponse httpResponse
                && answersHere(httpRequest)) {
            http.handle(httpRequest, httpResponse);
        } else {
            chain.doFilter(request, response);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Registration {
        @Bean
        FilterRegistrationBean<OcspFastPathFilter> ocspFastPath(OcspHttp http,
                @org.springframework.beans.factory.annotation.Value("${trent.ocsp.fast-path:true}") boolean fastPath) {
            FilterRegistrationBean<OcspFastPathFilter> bean = new FilterRegistrationBean<>(new OcspFastPathFilter(http,
                    fastPath));
            bean.addUrlPatterns("/ocsp", "/ocsp/*");
            bean.setDispatcherTypes(DispatcherType.REQUEST);
            bean.setOrder(Ordered.HIGHEST_PRECEDENCE);
            return bean;
        }
    }
}
