package dev.trent.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.web.context.WebApplicationContext;
import org.springframework.web.servlet.resource.ResourceUrlEncodingFilter;

import dev.trent.support.IntegrationTest;

/** Thymeleaf's resource URL filter is registered once, for the console's paths only. */
class ConsoleResourceUrlsIT extends IntegrationTest {

    @Autowired
    WebApplicationContext context;

    @Test
    void resourceUrlEncodingFilterWhenRegisteredThenOnlyOnConsolePaths() {
        List<? extends jakarta.servlet.FilterRegistration> registrations = context.getServletContext()
                .getFilterRegistrations().values().stream()
                .filter(r -> ResourceUrlEncodingFilter.class.getName().equals(r.getClassName())).toList();
        assertThat(registrations).hasSize(1);
        assertThat(registrations.get(0).getUrlPatternMappings()).containsExactly(ConsoleResourceUrls.CONSOLE_PATHS);
        assertThat(registrations.get(0).getServletNameMappings()).isEmpty();
    }
}
