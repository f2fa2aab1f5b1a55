package dev.trent.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import javax.sql.DataSource;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.PreparedStatementCallback;
import org.springframework.transaction.IllegalTransactionStateException;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

import dev.trent.support.IntegrationTest;

/**
 * A transaction's write-behind statements: sent together in one execution at the flush or just
 * before the commit, in order, checked on what they returned, and never when it rolls back; a
 * nested REQUIRES_NEW transaction keeps its own.
 */
class WriteBehindIT extends IntegrationTest {

    @Autowired
    private PlatformTransactionManager transactions;

    @Autowired
    private DataSource dataSource;

    private TransactionTemplate tx;
    private TransactionTemplate requiresNew;
    /** Statement executions (round trips) of {@link #writes}. */
    private final AtomicInteger executions = new AtomicInteger();
    private WriteBehind writes;

    @BeforeEach
    void setUp() {
        tx = new TransactionTemplate(transactions);
        requiresNew = new TransactionTemplate(transactions);
        requiresNew.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        jdbc.execute("create table if not exists write_behind_probe (id bigserial primary key, label text not null)");
        jdbc.update("delete from write_behind_probe");
        executions.set(0);
        // The application's DataSource (so the transaction's connection), its executions counted.
        writes = new WriteBehind(new JdbcTemplate(dataSource) {
            @Override
            public <T> T execute(String sql, PreparedStatementCallback<T> action) {
                executions.incrementAndGet();
                return super.execute(sql, action);
            }
        });
    }

    private List<String> labels() {
        return jdbc.queryForList("select label from write_behind_probe order by id", String.class);
    }

    @Test
    void writesWhenFlushedThenSentTogetherInOrderAndCheckedOnWhatTheyReturned() {
        List<String> seen = new ArrayList<>();
        tx.executeWithoutResult(status -> {
            writes.add("insert into write_behind_probe (label) values (?)", "first");
            writes.add("insert into write_behind_probe (label) values (?), (?) returning label", new Object[] {"second",
                    "third"}, (rows, count) -> seen.add("rows " + rows.stream().map(r -> (String) r[0]).toList()));
            writes.add("update write_behind_probe set label = label || '!' where label = ?", new Object[] {"first"},
                    (rows, count) -> seen.add("rows " + rows + " count " + count));
            writes.add("insert into write_behind_probe (label) values (coalesce(?, 'null given'))",
                    new Object[] {null}, null);
            // Nothing sent yet: this transaction's own read does not see them.
            assertThat(jdbc.queryForObject("select count(*) from write_behind_probe", Integer.class)).isZero();
            assertThat(executions).hasValue(0);

            writes.flush();

            assertThat(executions).as("one execution for all four statements").hasValue(1);
            assertThat(seen).containsExactly("rows [second, third]", "rows null count 1");
            assertThat(labels()).containsExactly("first!", "second", "third", "null given");
            writes.flush(); // nothing left: no execution
            assertThat(executions).hasValue(1);
        });
        assertThat(labels()).containsExactly("first!", "second", "third", "null given");
    }

    @Test
    void writesWhenNotFlushedThenSentJustBeforeTheCommit() {
        tx.executeWithoutResult(status -> writes.add("insert into write_behind_probe (label) values (?)", "at commit"));

        assertThat(executions).hasValue(1);
        assertThat(labels()).containsExactly("at commit");
    }

    @Test
    void checkWhenItThrowsThenTheWholeTransactionRollsBack() {
        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            jdbc.update("insert into write_behind_probe (label) values ('direct')");
            writes.add("insert into write_behind_probe (label) values (?)", "behind");
            writes.add("update write_behind_probe set label = 'x' where label = ? returning id",
                    new Object[] {"no such row"}, (rows, count) -> {
                        if (rows.isEmpty()) {
                            throw new IllegalStateException("nothing updated");
                        }
                    });
        })).isInstanceOf(IllegalStateException.class).hasMessage("nothing updated");

        assertThat(labels()).isEmpty();
    }

    @Test
    void transactionWhenRolledBackThenNothingSentAndNoCheckRun() {
        AtomicInteger checks = new AtomicInteger();
        tx.executeWithoutResult(status -> {
            writes.add("insert into write_behind_probe (label) values (?)", new Object[] {"never"},
                    (rows, count) -> checks.incrementAndGet());
            status.setRollbackOnly();
        });

        assertThat(executions).hasValue(0);
        assertThat(checks).hasValue(0);
        assertThat(labels()).isEmpty();
        // The next transaction starts with nothing pending.
        tx.executeWithoutResult(status -> writes.add("insert into write_behind_probe (label) values (?)", "next"));
        assertThat(labels()).containsExactly("next");
    }

    @Test
    void nestedRequiresNewWhenItCommitsThenOnlyItsOwnWritesGoWithIt() {
        tx.executeWithoutResult(outer -> {
            writes.add("insert into write_behind_probe (label) values (?)", "outer");
            requiresNew.executeWithoutResult(inner -> writes.add("insert into write_behind_probe (label) values (?)",
                    "inner"));
            // The inner one committed on its own, without the outer's write.
            assertThat(new JdbcTemplate(dataSource).queryForList("select label from write_behind_probe",
                    String.class)).containsExactly("inner");
            outer.setRollbackOnly();
        });

        assertThat(labels()).containsExactly("inner");
    }

    @Test
    void nestedRequiresNewWhenBothCommitThenEachSendsItsOwn() {
        tx.executeWithoutResult(outer -> {
            writes.add("insert into write_behind_probe (label) values (?)", "outer");
            requiresNew.executeWithoutResult(inner -> writes.add("insert into write_behind_probe (label) values (?)",
                    "inner"));
            writes.add("insert into write_behind_probe (label) values (?)", "outer again");
        });

        assertThat(labels()).containsExactly("inner", "outer", "outer again");
        assertThat(executions).as("the inner transaction's round trip, then the outer's").hasValue(2);
    }

    @Test
    void addWhenManyWritesThenSentInParts() {
        tx.executeWithoutResult(status -> {
            for (int i = 0; i < WriteBehind.MAX_PENDING + 1; i++) {
                writes.add("insert into write_behind_probe (label) values (?)", "n" + i);
            }
            assertThat(executions).hasValue(1);
        });

        assertThat(executions).hasValue(2);
        assertThat(labels()).hasSize(WriteBehind.MAX_PENDING + 1).startsWith("n0", "n1").endsWith("n100");
    }

    @Test
    void addWhenMoreThanOneStatementOrACommentThenRefused() {
        tx.executeWithoutResult(status -> {
            assertThatThrownBy(() -> writes.add("insert into write_behind_probe (label) values ('a'); select 1"))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> writes.add("insert into write_behind_probe (label) values (?) -- note", "b"))
                    .isInstanceOf(IllegalArgumentException.class);
        });
        assertThat(executions).hasValue(0);
        assertThat(labels()).isEmpty();
    }

    @Test
    void addWhenNoTransactionThenRefused() {
        assertThatThrownBy(() -> writes.add("insert into write_behind_probe (label) values (?)", "outside"))
                .isInstanceOf(IllegalTransactionStateException.class);
        assertThat(labels()).isEmpty();
    }
}
