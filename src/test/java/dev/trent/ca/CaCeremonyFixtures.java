package dev.trent.ca;

import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;

import dev.trent.profile.KeyType;

/** CA material for tests. */
public final class CaCeremonyFixtures {

    private CaCeremonyFixtures() {
    }

    /** An intermediate certificate of a CA that Trent does not hold. */
    public static X509Certificate foreignCa() {
        return new CaCeremony(new SecureRandom(), Clock.systemUTC())
                .createHierarchy(KeyType.EC_P256, "Elsewhere", Duration.ofDays(365), Duration.ofDays(30))
                .intermediate().certificate();
    }
}
