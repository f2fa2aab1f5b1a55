package dev.trent.support;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.trent.TrentApplication;

/**
 * The whole application started in-process as an operator would start it (no test context
 * framework), on a random port. Settings are passed as command-line arguments, so they win over
 * any {@code TRENT_*} environment variables of the machine running the tests.
 */
public final class TrentApp implements AutoCloseable {

    private final ConfigurableApplicationContext context;

    private TrentApp(ConfigurableApplicationContext context) {
        this.context = context;
    }

    /** Starts Trent with {@code server.port=0} plus the given {@code trent.*} (or other) settings. */
    public static TrentApp start(Map<String, String> settings) {
        return start(settings, (MovableClock) null);
    }

    /** As {@link #start(Map)}, with more configuration classes (a test's beans). */
    public static TrentApp start(Map<String, String> settings, Class<?>... extraSources) {
        return start(settings, null, extraSources);
    }

    /** {@link #start(Map)} with {@code clock} in place of Trent's clock (null: the system clock). */
    public static TrentApp start(Map<String, String> settings, MovableClock clock) {
        return start(settings, clock, new Class<?>[0]);
    }

    private static TrentApp start(Map<String, String> settings, MovableClock clock, Class<?>[] extraSources) {
        Map<String, String> all = new LinkedHashMap<>();
        all.put("server.port", "0");
        all.put("trent.tls.port", "0");
        all.putAll(settings);
        List<String> args = new ArrayList<>();
        all.forEach((k, v) -> args.add("--" + k + "=" + v));
        SpringApplicationBuilder builder = new SpringApplicationBuilder(TrentApplication.class).sources(extraSources)
                .main(TrentApplication.class);
        if (clock != null) {
            builder.initializers(clock.installIn());
        }
        return new TrentApp(builder.run(args.toArray(String[]::new)));
    }

    public int port() {
        Integer port = context.getEnvironment().getProperty("local.server.port", Integer.class);
        if (port == null) {
            throw new IllegalStateException("the web server has no local port");
        }
        return port;
    }

    public TrentClient client() {
        return new TrentClient(port());
    }

    public JdbcTemplate jdbc() {
        return context.getBean(JdbcTemplate.class);
    }

    public ConfigurableApplicationContext context() {
        return context;
    }

    @Override
    public void close() {
        context.close();
    }

    /** The messages of an exception and all its causes, one per line, to assert on. */
    public static String messages(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            sb.append(c.getClass().getName()).append(": ").append(c.getMessage()).append('\n');
        }
        return sb.toString();
    }
}
