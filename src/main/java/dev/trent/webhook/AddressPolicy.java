package dev.trent.webhook;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import org.springframework.security.util.matcher.InetAddressMatcher;
import org.springframework.security.util.matcher.InetAddressMatchers;

/**
 * Which URLs a webhook may be sent to. Only {@code http} and {@code https}; never link-local
 * addresses ({@code 169.254.0.0/16}, {@code fe80::/10}) nor cloud metadata services
 * (169.254.169.254, {@code fd00:ec2::254}, 100.100.100.200, {@code metadata.google.internal}),
 * which a URL could otherwise turn against the host Trent runs on (server-side request
 * forgery), unless {@code trent.webhooks.allow-link-local} says so. Loopback and private
 * addresses are allowed: integrations run on private networks.
 *
 * <p>Checked at registration (the literal host, and the addresses its name resolves to then) and
 * again before every attempt, since what a name resolves to can change; the sender connects only
 * to addresses checked in its own lookup ({@link #resolveForConnecting}), so a name that resolves
 * differently from one lookup to the next (DNS rebinding) cannot slip past.
 *
 * @see <a href="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#server-side-request-forgery-ssrf">Standard Webhooks, SSRF</a>
 */
final class AddressPolicy {

    /** Host names of metadata services, compared in lower case without a trailing dot. */
    private static final Set<String> METADATA_NAMES = Set.of("metadata.google.internal", "metadata.goog");
    /**
     * Metadata addresses outside the link-local ranges: AWS over IPv6, Alibaba Cloud. Matched as
     * addresses (Spring Security's matcher, as {@code IpAddressMatcher} uses), whatever the
     * spelling or IPv6 scope. Link-local itself is the JDK's {@link InetAddress#isLinkLocalAddress}
     * ({@code 169.254.0.0/16}, {@code fe80::/10}); no matcher classifies addresses by kind.
     */
    private static final List<InetAddressMatcher> METADATA_ADDRESSES = Stream.of("fd00:ec2::254", "100.100.100.200")
            .map(InetAddressMatchers::fromIpAddress).toList();

    private final boolean allowLinkLocal;
    private final Resolver resolver;

    /** Name resolution, replaceable in tests. */
    interface Resolver {
        InetAddress[] resolve(String host) throws UnknownHostException;
    }

    AddressPolicy(boolean allowLinkLocal, Resolver resolver) {
        this.allowLinkLocal = allowLinkLocal;
        this.resolver = resolver;
    }

    AddressPolicy(boolean allowLinkLocal) {
        this(allowLinkLocal, InetAddress::getAllByName);
    }

    /** A URL refused, with why (safe to show to the operator). */
    static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message);
        }
    }

    /**
     * Parses and checks a URL given at registration. A name that does not resolve now is
     * accepted (it may be published later); it is checked again before every attempt.
     */
    URI parse(String url) throws RefusedException {
        if (url == null || url.isBlank()) {
            throw new RefusedException("url is required: an http or https URL.");
        }
        if (url.length() > 2000) {
            throw new RefusedException("url must be at most 2000 characters.");
        }
        URI uri;
        try {
            uri = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw new RefusedException("url is not a valid URI: " + e.getReason() + ".");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new RefusedException("url must use http or https, not '" + (uri.getScheme() == null ? "" : scheme)
                    + "'.");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new RefusedException("url has no host (or one that is not a valid host name).");
        }
        if (uri.getRawUserInfo() != null) {
            throw new RefusedException("url must not carry user information (user:password@): it would be shown "
                    + "in every listing; authenticate the sender by the webhook signature instead.");
        }
        if (uri.getRawFragment() != null) {
            throw new RefusedException("url must not have a fragment (#...).");
        }
        checkName(uri.getHost());
        try {
            for (InetAddress a : resolver.resolve(bareHost(uri))) {
                check(a, uri.getHost());
            }
        } catch (UnknownHostException e) {
            // Accepted: checked again before every attempt.
        }
        return uri;
    }

    /** Before an attempt: resolves the host and checks every address it has now. */
    void checkBeforeSending(URI uri) throws RefusedException, UnknownHostException {
        checkName(uri.getHost());
        for (InetAddress a : resolver.resolve(bareHost(uri))) {
            check(a, uri.getHost());
        }
    }

    /**
     * Resolves a host name for the connection itself and checks every address, so that the
     * address connected to is the address checked (no second lookup a DNS server could answer
     * differently). Plugged into the sending HTTP client as its resolver.
     */
    InetAddress[] resolveForConnecting(String host) throws RefusedException, UnknownHostException {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        checkName(bare);
        InetAddress[] all = resolver.resolve(bare);
        for (InetAddress a : all) {
            check(a, host);
        }
        return all;
    }

    private static String bareHost(URI uri) {
        String host = uri.getHost();
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    private void checkName(String host) throws RefusedException {
        String name = host.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (!allowLinkLocal && METADATA_NAMES.contains(name)) {
            throw new RefusedException("url names a cloud metadata service (" + host + "); set "
                    + "trent.webhooks.allow-link-local=true to allow it.");
        }
    }

    private void check(InetAddress a, String host) throws RefusedException {
        if (a.isAnyLocalAddress() || a.isMulticastAddress()) {
            throw new RefusedException("url's host " + host + " is " + a.getHostAddress()
                    + ", which is not a unicast address.");
        }
        if (allowLinkLocal) {
            return;
        }
        Optional<String> why = Optional.empty();
        if (METADATA_ADDRESSES.stream().anyMatch(m -> m.matches(a))) {
            why = Optional.of("a cloud metadata address");
        } else if (a.isLinkLocalAddress()) {
            why = Optional.of("a link-local address" + (a.getHostAddress().equals("169.254.169.254")
                    ? " (the cloud metadata service)" : ""));
        }
        if (why.isPresent()) {
            throw new RefusedException("url's host " + host + " is " + a.getHostAddress() + ", " + why.get()
                    + "; set trent.webhooks.allow-link-local=true to allow it.");
        }
    }
}
