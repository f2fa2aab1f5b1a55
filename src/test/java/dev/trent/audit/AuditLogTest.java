package dev.trent.audit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.IllegalTransactionStateException;

/** An audit event outside the transaction of the action it records is refused before any write. */
class AuditLogTest {

    @Test
    void recordOutsideATransactionIsRefused() {
        JdbcTemplate nowhere = new JdbcTemplate(); // no DataSource: any statement would fail differently
        AuditLog audit = new AuditLog(new dev.trent.config.WriteBehind(nowhere), Clock.systemUTC(),
                new org.springframework.jdbc.support.JdbcTransactionManager());
        assertThatThrownBy(() -> audit.record("system", "certificate.issued", "01", Map.of()))
                .isInstanceOf(IllegalTransactionStateException.class)
                .hasMessageContaining("inside the transaction");
    }
}
