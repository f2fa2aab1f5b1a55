package dev.trent.console;

import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.resource.ResourceUrlEncodingFilter;

import jakarta.servlet.DispatcherType;

/**
 * Thymeleaf's resource URL rewriting where Thymeleaf renders: the console. Spring Boot registers
 * {@link ResourceUrlEncodingFilter} for every request once a resource chain is enabled (Swagger
 * UI's webjars-locator-lite enables it), so it wrapped every API and device request too: 2% of an
 * enrollment's Java CPU samples (bench/README.md). Declaring the registration here makes Boot's
 * back off.
 */
@Configuration(proxyBeanMethods = false)
class ConsoleResourceUrls {

    static final String CONSOLE_PATHS = "/console/*";

    @Bean
    FilterRegistrationBean<ResourceUrlEncodingFilter> consoleResourceUrlEncodingFilter() {
        FilterRegistrationBean<ResourceUrlEncodingFilter> registration =
                new FilterRegistrationBean<>(new ResourceUrlEncodingFilter());
        registration.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ERROR);
        registration.addUrlPatterns(CONSOLE_PATHS);
        return registration;
    }
}
