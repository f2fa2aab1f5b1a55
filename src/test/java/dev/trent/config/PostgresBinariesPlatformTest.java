package dev.trent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * The build ships the embedded PostgreSQL of Linux (servers, containers) and of the machine it
 * was built on, and no other (pom.xml, profiles {@code postgres-*}), unless built with
 * {@code -Dtrent.postgres-binaries=all}. The test classpath has the jar's runtime dependencies.
 */
class PostgresBinariesPlatformTest {

    private static final Map<String, String> ARCHIVES = Map.of(
            "linux", "postgres-linux-x86_64.txz",
            "linux-arm64", "postgres-linux-arm_64.txz",
            "alpine", "postgres-linux-x86_64-alpine_linux.txz",
            "mac", "postgres-darwin-x86_64.txz",
            "mac-arm64", "postgres-darwin-arm_64.txz",
            "windows", "postgres-windows-x86_64.txz");

    @Test
    void classpathWhenBuiltThenHoldsLinuxAndThisPlatformsBinariesOnly() {
        Set<String> present = new TreeSet<>();
        ARCHIVES.forEach((platform, archive) -> {
            if (getClass().getClassLoader().getResource(archive) != null) {
                present.add(platform);
            }
        });
        if (present.contains("alpine")) {
            assertThat(present).as("-Dtrent.postgres-binaries=all: every platform's").isEqualTo(ARCHIVES.keySet());
            return;
        }
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        boolean arm64 = "aarch64".equals(System.getProperty("os.arch"));
        Set<String> expected = new TreeSet<>(Set.of("linux"));
        if (os.contains("mac")) {
            expected.add("mac");
            if (arm64) {
                expected.add("mac-arm64");
            }
        } else if (os.contains("windows")) {
            expected.add("windows");
        } else if (os.contains("linux") && arm64) {
            expected.add("linux-arm64");
        }
        assertThat(present).isEqualTo(expected);
    }
}
