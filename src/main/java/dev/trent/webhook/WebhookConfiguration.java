package dev.trent.webhook;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.trent.config.TrentProperties;
import dev.trent.pki.SecretBox;

/** The webhook key (for secrets at rest) and the address policy, from {@code trent.webhooks.*}. */
@Configuration(proxyBeanMethods = false)
class WebhookConfiguration {

    @Bean
    SecretBox webhookSecretBox(TrentProperties properties, SecureRandom random) throws IOException {
        Path file = properties.webhooks().secretKeyFile() != null ? properties.webhooks().secretKeyFile()
                : properties.dataDir().resolve("webhook-secret.key");
        return SecretBox.fromFile(file, random);
    }

    @Bean
    AddressPolicy webhookAddressPolicy(TrentProperties properties) {
        return new AddressPolicy(properties.webhooks().allowLinkLocal());
    }
}
