package dev.trent.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class AddressPolicyTest {

    /** A resolver whose answers the test changes, as DNS can. */
    private final Map<String, String> dns = new HashMap<>();
    private final AddressPolicy.Resolver resolver = host -> {
        String a = dns.get(host);
        if (a == null) {
            try {
                return InetAddress.getAllByName(host); // literals only in these tests
            } catch (UnknownHostException e) {
                throw e;
            }
        }
        return new InetAddress[] {InetAddress.getByName(a)};
    };

    @Test
    void checkBeforeSendingWhenNameNowResolvesToMetadataThenRefused() throws Exception {
        AddressPolicy policy = new AddressPolicy(false, resolver);
        dns.put("hooks.example.internal", "10.1.2.3");
        URI uri = policy.parse("https://hooks.example.internal/trent");
        policy.checkBeforeSending(uri);

        dns.put("hooks.example.internal", "169.254.169.254");
        assertThatThrownBy(() -> policy.checkBeforeSending(uri)).isInstanceOf(AddressPolicy.RefusedException.class)
                .hasMessageContaining("link-local").hasMessageContaining("metadata");
        dns.put("hooks.example.internal", "fd00:ec2::254");
        assertThatThrownBy(() -> policy.checkBeforeSending(uri)).hasMessageContaining("metadata");
    }

    @Test
    void parseWhenNameResolvesToLinkLocalThenRefusedUnlessAllowed() throws Exception {
        dns.put("printer.local", "169.254.7.7");
        assertThatThrownBy(() -> new AddressPolicy(false, resolver).parse("http://printer.local/x"))
                .hasMessageContaining("link-local").hasMessageContaining("trent.webhooks.allow-link-local");
        assertThat(new AddressPolicy(true, resolver).parse("http://printer.local/x").getHost())
                .isEqualTo("printer.local");
        assertThat(new AddressPolicy(true, resolver).parse("http://169.254.169.254/latest")).isNotNull();
    }

    @Test
    void parseWhenIpv4MappedOrTrailingDotFormsThenStillRefused() {
        AddressPolicy policy = new AddressPolicy(false, resolver);
        assertThatThrownBy(() -> policy.parse("http://[::ffff:169.254.169.254]/")).hasMessageContaining("link-local");
        assertThatThrownBy(() -> policy.parse("http://METADATA.google.internal./")).hasMessageContaining("metadata");
        assertThatThrownBy(() -> policy.parse("http://0.0.0.0:8080/")).hasMessageContaining("not a unicast");
    }

    @Test
    void checkBeforeSendingWhenMetadataAddressSpelledOtherwiseOrScopedThenStillRefused() throws Exception {
        AddressPolicy policy = new AddressPolicy(false, resolver);
        URI uri = policy.parse("https://hooks.example.internal/trent");
        for (String spelling : new String[] {"fd00:ec2:0::254", "FD00:EC2:0:0:0:0:0:254", "fd00:ec2::254%1",
            "100.100.100.200", "::ffff:100.100.100.200"}) {
            dns.put("hooks.example.internal", spelling);
            assertThatThrownBy(() -> policy.checkBeforeSending(uri)).as(spelling)
                    .isInstanceOf(AddressPolicy.RefusedException.class).hasMessageContaining("a cloud metadata address");
        }
        dns.put("hooks.example.internal", "fd00:ec2::253");
        policy.checkBeforeSending(uri); // a neighbour is an ordinary private address
        assertThat(new AddressPolicy(true, resolver).resolveForConnecting("hooks.example.internal")).hasSize(1);
    }

    @Test
    void parseWhenNameDoesNotResolveYetThenAcceptedAndCheckedAtDelivery() throws Exception {
        AddressPolicy policy = new AddressPolicy(false, host -> {
            throw new UnknownHostException(host);
        });
        URI uri = policy.parse("https://not-yet.example.invalid/hook");
        assertThatThrownBy(() -> policy.checkBeforeSending(uri)).isInstanceOf(UnknownHostException.class);
    }
}
