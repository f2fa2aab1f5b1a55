package dev.trent.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.config.TrentProperties;

/** Which broker clients are Trent's, what a device's client needs, the backoff and the password file. */
class DeviceClientsTest {

    @TempDir
    Path dir;

    private static TrentProperties.Mosquitto settings(String group) {
        return new TrentProperties.Mosquitto(URI.create("tcp://127.0.0.1:1"), "trent-admin", null, "secret", null,
                "device", group, List.of("device"), Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(5));
    }

    private static DeviceClients clients(String group) {
        TrentProperties.Mosquitto s = settings(group);
        return new DeviceClients(new DynsecConnection(s, () -> { }), s);
    }

    private static DeviceClients.BrokerClient client(String name, String textname, List<String> roles, List<String> groups) {
        return new DeviceClients.BrokerClient(name, textname, false, roles, groups);
    }

    @Test
    void managedWhenMarkerRoleOrGroupThenTrentsAndOtherwiseNot() {
        DeviceClients c = clients("devices");
        assertThat(c.managed(client("d1", DeviceClients.MARKER, List.of(), List.of()))).isTrue();
        assertThat(c.managed(client("d2", null, List.of("device"), List.of()))).isTrue();
        assertThat(c.managed(client("d3", null, List.of(), List.of("devices")))).isTrue();
        assertThat(c.managed(client("ops", "the operator's", List.of("monitoring"), List.of()))).isFalse();
    }

    @Test
    void managedWhenAdminThenNeverEvenWithTheDeviceRoleOrMarker() {
        DeviceClients c = clients(null);
        assertThat(c.managed(client("trent-admin", DeviceClients.MARKER, List.of("device", "admin"), List.of()))).isFalse();
        assertThat(c.isAdmin("trent-admin")).isTrue();
    }

    @Test
    void completeWhenRoleGroupAndEnabledThenTrueAndOtherwiseFalse() {
        DeviceClients c = clients("devices");
        assertThat(c.complete(client("d", DeviceClients.MARKER, List.of("device"), List.of("devices")))).isTrue();
        assertThat(c.complete(client("d", DeviceClients.MARKER, List.of("device"), List.of()))).isFalse();
        assertThat(c.complete(client("d", DeviceClients.MARKER, List.of(), List.of("devices")))).isFalse();
        assertThat(c.complete(new DeviceClients.BrokerClient("d", null, true, List.of("device"), List.of("devices"))))
                .as("disabled").isFalse();
        assertThat(clients(null).complete(client("d", null, List.of("device"), List.of()))).as("no group configured").isTrue();
    }

    @Test
    void backoffWhenAttemptsGrowThenDoublesFromOneSecondUpToTen() {
        assertThat(BrokerRelay.backoff(0)).isEqualTo(Duration.ofSeconds(1));
        assertThat(BrokerRelay.backoff(1)).isEqualTo(Duration.ofSeconds(2));
        assertThat(BrokerRelay.backoff(3)).isEqualTo(Duration.ofSeconds(8));
        assertThat(BrokerRelay.backoff(4)).isEqualTo(BrokerRelay.MAX_BACKOFF);
        assertThat(BrokerRelay.backoff(1000)).isEqualTo(BrokerRelay.MAX_BACKOFF);
    }

    @Test
    void readPasswordWhenFileEndsWithNewlineThenOneNewlineIsIgnored() throws Exception {
        Path f = dir.resolve("pw");
        Files.writeString(f, "s3cret \n\n");
        TrentProperties.Mosquitto s = new TrentProperties.Mosquitto(URI.create("tcp://127.0.0.1:1"), "a", f, null, null,
                "device", null, List.of("device"), Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofSeconds(5));
        assertThat(new String(DynsecConnection.readPassword(s))).isEqualTo("s3cret \n");
        Files.writeString(f, "plain");
        assertThat(new String(DynsecConnection.readPassword(s))).isEqualTo("plain");
    }

    @Test
    void toStringWhenPasswordSetThenRedacted() {
        assertThat(settings(null).toString()).doesNotContain("secret").contains("(redacted)");
    }
}
