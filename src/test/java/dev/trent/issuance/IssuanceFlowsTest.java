package dev.trent.issuance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;

import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.trent.audit.AuditLog;
import dev.trent.inventory.CertificateReservations;

/** Every flow IssuanceService runs lints, then reserves, then signs, then stores, each exactly once. */
class IssuanceFlowsTest {

    private final IssuanceService.Flows flows = IssuanceService.flows(Clock.systemUTC(), Duration.ofMinutes(5),
            null, mock(CertificateReservations.class), mock(AuditLog.class));

    @Test
    void deviceFlowThenLintBeforeReserveBeforeSignBeforeStore() {
        assertOrder(flows.device());
    }

    @Test
    void tlsServerFlowThenLintBeforeReserveBeforeSignBeforeStore() {
        assertOrder(flows.tlsServer());
        assertThat(index(flows.tlsServer(), IssuanceStages.TlsServerNames.class))
                .isLessThan(index(flows.tlsServer(), IssuanceStages.BuildTbs.class));
    }

    @Test
    void ocspResponderFlowThenLintBeforeReserveBeforeSignBeforeStore() {
        assertOrder(flows.ocspResponder());
    }

    private static void assertOrder(List<IssuanceStage> flow) {
        int lint = index(flow, IssuanceStages.LintTbs.class);
        int reserve = index(flow, IssuanceStages.Reserve.class);
        int sign = index(flow, IssuanceStages.Sign.class);
        int store = index(flow, IssuanceStages.Store.class);
        assertThat(index(flow, IssuanceStages.BuildTbs.class)).isLessThan(lint);
        assertThat(lint).isLessThan(reserve);
        assertThat(reserve).isLessThan(sign);
        assertThat(sign).isLessThan(store);
    }

    /** The one position of a stage of this type in the flow (fails when absent or present twice). */
    private static int index(List<IssuanceStage> flow, Class<? extends IssuanceStage> type) {
        List<Integer> at = java.util.stream.IntStream.range(0, flow.size())
                .filter(n -> type.isInstance(flow.get(n))).boxed().toList();
        assertThat(at).as(type.getSimpleName() + " in " + flow).hasSize(1);
        return at.get(0);
    }
}
