package dev.trent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Settings checked against each other when they are bound, before anything starts. */
class TrentPropertiesTest {

    private static TrentProperties bind(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings)).bindOrCreate("trent", TrentProperties.class);
    }

    @Test
    void defaultsThenThePendingTimeoutOutlastsTheStatementTimeout() {
        TrentProperties p = bind(Map.of());
        assertThat(p.issuance().pendingTimeout()).isGreaterThan(p.database().statementTimeout());
    }

    @Test
    void pendingTimeoutWhenNotLongerThanTheStatementTimeoutThenRefusedNamingBoth() {
        assertThatThrownBy(() -> bind(Map.of("trent.issuance.pending-timeout", "30s",
                "trent.database.statement-timeout", "30s")))
                .isInstanceOf(BindException.class)
                .rootCause().hasMessageContaining("trent.issuance.pending-timeout (PT30S)")
                .hasMessageContaining("trent.database.statement-timeout (PT30S)");
        assertThat(bind(Map.of("trent.issuance.pending-timeout", "31s", "trent.database.statement-timeout", "30s"))
                .issuance().pendingTimeout()).isEqualTo(Duration.ofSeconds(31));
    }
}
