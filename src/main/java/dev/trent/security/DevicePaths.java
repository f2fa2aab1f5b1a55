package dev.trent.security;

import java.util.List;

import org.springframework.util.AntPathMatcher;

/** The paths devices enroll, renew and get generated keys on (the device security chain's). */
public final class DevicePaths {

    static final List<String> PATTERNS = List.of("/api/v1/enroll", "/api/v1/enroll/**", "/api/v1/renew",
            "/.well-known/est/simpleenroll", "/.well-known/est/*/simpleenroll", "/.well-known/est/simplereenroll",
            "/.well-known/est/*/simplereenroll", "/.well-known/est/serverkeygen", "/.well-known/est/*/serverkeygen");

    private static final AntPathMatcher MATCHER = new AntPathMatcher();

    private DevicePaths() {
    }

    public static boolean matches(String path) {
        return PATTERNS.stream().anyMatch(p -> MATCHER.match(p, path));
    }
}
