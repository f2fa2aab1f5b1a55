package dev.trent.operator;

import java.io.IOException;

import org.springframework.beans.factory.InitializingBean;
import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;

/** Runs the admin-key bootstrap while the context starts, before the web server accepts requests. */
@Component
class ApiKeyBootstrap implements InitializingBean {

    private final ApiKeyService service;
    private final TrentProperties properties;

    ApiKeyBootstrap(ApiKeyService service, TrentProperties properties) {
        this.service = service;
        this.properties = properties;
    }

    @Override
    public void afterPropertiesSet() throws IOException {
        service.bootstrap(properties);
    }
}
