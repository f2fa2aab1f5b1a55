package dev.trent.support;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The system clock plus an offset that a test moves forward: half-life renewals, expiries and
 * grace windows are reached by {@link #advance}, not by sleeping. Time keeps flowing between
 * moves, so schedulers that wait for "later" still see later. {@link #installIn} puts it in
 * place of Trent's {@code clock} bean, so every time decision in the application reads it.
 *
 * <p>Give a moving clock a context of its own: a certificate issued after a move is valid from
 * a time the rest of the machine (curl, openssl, the JVM of the test) has not reached yet.
 */
public final class MovableClock extends Clock {

    private final Clock base = Clock.systemUTC();
    private final AtomicReference<Duration> offset = new AtomicReference<>(Duration.ZERO);

    /** Moves the clock forward (or back, with a negative duration). */
    public void advance(Duration by) {
        offset.accumulateAndGet(by, Duration::plus);
    }

    /** How far the clock has been moved in total. */
    public Duration offset() {
        return offset.get();
    }

    @Override
    public Instant instant() {
        return base.instant().plus(offset.get());
    }

    @Override
    public long millis() {
        return instant().toEpochMilli();
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("Trent's clock is UTC");
    }

    /**
     * An initializer that replaces the application's {@code clock} bean with this clock, for
     * {@code SpringApplicationBuilder.initializers(...)} (see {@link TrentApp#start(java.util.Map, MovableClock)}).
     */
    public ApplicationContextInitializer<ConfigurableApplicationContext> installIn() {
        MovableClock clock = this;
        return context -> context.addBeanFactoryPostProcessor(beanFactory -> {
            // After the configuration classes are parsed: their clock definition exists and is swapped.
            BeanDefinitionRegistry registry = (BeanDefinitionRegistry) beanFactory;
            if (registry.containsBeanDefinition("clock")) {
                registry.removeBeanDefinition("clock");
            }
            registry.registerBeanDefinition("clock", new RootBeanDefinition(Clock.class, () -> clock));
        });
    }
}
