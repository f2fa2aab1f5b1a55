package dev.trent.pki;

import java.security.Provider;

import org.bouncycastle.jce.provider.BouncyCastleProvider;

/**
 * The JCA provider used for software signature and verification math. Bouncy Castle is about
 * five times faster than SunEC for ECDSA P-256 on JDK 17 (see bench/README.md), and behaves the
 * same on every JDK. It is not registered globally: callers name it explicitly.
 */
public final class Providers {

    /** Stateless after construction, so one shared instance is safe. */
    public static final Provider BC = new BouncyCastleProvider();

    private Providers() {
    }
}
