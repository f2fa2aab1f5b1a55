package dev.trent.web;

import org.apache.catalina.Lifecycle;
import org.apache.catalina.Valve;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;

/**
 * Where client errors are caught for every endpoint at once: the first filter
 * ({@link ClientErrorFilter}) and Tomcat's error report ({@link ProblemErrorReportValve}).
 */
@Configuration(proxyBeanMethods = false)
class WebErrorsConfiguration {

    @Bean
    FilterRegistrationBean<ClientErrorFilter> clientErrorFilter(ClientErrorLog log) {
        FilterRegistrationBean<ClientErrorFilter> bean = new FilterRegistrationBean<>(new ClientErrorFilter(log));
        bean.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return bean;
    }

    /**
     * Puts {@link ProblemErrorReportValve} into the host's pipeline in place of Tomcat's HTML
     * {@code ErrorReportValve}, which the host adds when it starts (before any connector accepts
     * a request) and which is taken out again right after.
     */
    @Bean
    TomcatContextCustomizer problemErrorReport(ClientErrorLog log) {
        return context -> {
            if (context.getParent() instanceof StandardHost host) {
                host.setErrorReportValveClass(ProblemErrorReportValve.class.getName());
                host.getPipeline().addValve(new ProblemErrorReportValve(log));
                host.addLifecycleListener(event -> {
                    if (Lifecycle.AFTER_START_EVENT.equals(event.getType())) {
                        for (Valve v : host.getPipeline().getValves()) {
                            if (v instanceof ErrorReportValve && !(v instanceof ProblemErrorReportValve)) {
                                host.getPipeline().removeValve(v);
                            }
                        }
                    }
                });
            }
        };
    }
}
