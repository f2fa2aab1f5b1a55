package dev.trent.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Mosquitto broker (Debian's {@code mosquitto} package, with its dynamic-security plugin)
 * run from a config directory under {@code target/}. A test that needs it calls
 * {@link #assumeAvailable()} first: skipped with a visible reason where mosquitto is missing,
 * failed in CI ({@code CI=true}, where {@code .ci/run} installs it).
 *
 * <p>Mosquitto started as root drops its privileges to the user {@code mosquitto}, which then
 * cannot read (or, for the dynsec JSON, write) files under a root-owned work tree. The config
 * says {@code user <the user running the tests>}, so it keeps the test's own identity.
 */
public final class Mosquitto implements AutoCloseable {

    public static final Path BINARY = Path.of("/usr/sbin/mosquitto");
    public static final String[] PLUGIN_CANDIDATES = {"/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
        "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so", "/usr/lib/mosquitto_dynamic_security.so"};

    private final Path dir;
    private final Path config;
    private final int waitPort;
    private Process process;

    private Mosquitto(Path dir, Path config, int waitPort) {
        this.dir = dir;
        this.config = config;
        this.waitPort = waitPort;
    }

    /** The dynamic-security plugin's path, or null. */
    public static String plugin() {
        for (String p : PLUGIN_CANDIDATES) {
            if (Files.isReadable(Path.of(p))) {
                return p;
            }
        }
        return null;
    }

    public static void assumeAvailable() {
        String reason = null;
        if (!Files.isExecutable(BINARY) || which("mosquitto_ctrl") == null) {
            reason = "mosquitto (Debian package 'mosquitto': /usr/sbin/mosquitto, mosquitto_ctrl) is not installed";
        } else if (plugin() == null) {
            reason = "mosquitto_dynamic_security.so is not installed";
        }
        if (reason == null) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail(reason + " (CI=true, so this is a failure, not a skip)");
        }
        Assumptions.abort(reason + "; install it to run this test");
    }

    private static Path which(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(d, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** A free TCP port on loopback (released again; the broker binds it soon after). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code mosquitto_ctrl dynsec init} for an admin client: a dynsec JSON file with that client and role "admin". */
    public static void dynsecInit(Path file, String admin, String password) {
        run(List.of("mosquitto_ctrl", "dynsec", "init", file.toString(), admin, password));
    }

    /** A broker with the given config text (written as {@code mosquitto.conf} in {@code dir}), ready once {@code waitPort} accepts. */
    public static Mosquitto configure(Path dir, String configText, int waitPort) {
        try {
            Files.createDirectories(dir);
            Path conf = dir.resolve("mosquitto.conf");
            Files.writeString(conf, "user " + System.getProperty("user.name") + "\n" + configText);
            return new Mosquitto(dir, conf, waitPort);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    /** Starts the broker and waits (at most 10 s) until its port accepts connections. */
    public synchronized Mosquitto start() {
        if (process != null && process.isAlive()) {
            return this;
        }
        try {
            process = new ProcessBuilder(BINARY.toString(), "-c", config.toString()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("mosquitto.log").toFile())).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start mosquitto", e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("mosquitto exited with " + process.exitValue() + ":\n" + log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", waitPort), 200);
                return this;
            } catch (IOException e) {
                sleep(50);
            }
        }
        throw new IllegalStateException("mosquitto did not listen on " + waitPort + " within 10 s:\n" + log());
    }

    /** Sends SIGHUP: Mosquitto 2.0 reloads its configuration and re-reads its TLS files (crlfile too). */
    public synchronized void hup() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("mosquitto is not running");
        }
        run(List.of("kill", "-s", "HUP", Long.toString(process.pid())));
    }

    /** Stops the broker (SIGTERM; it saves its dynsec JSON) and waits for it. */
    public synchronized void stop() {
        if (process == null) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    public String log() {
        try {
            Path log = dir.resolve("mosquitto.log");
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Override
    public void close() {
        stop();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Runs a mosquitto tool and returns its output; fails unless it exits 0. */
    public static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command + " did not finish");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(command + " -> exit " + p.exitValue() + ": " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
