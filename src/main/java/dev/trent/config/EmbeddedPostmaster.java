package dev.trent.config;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.zonky.test.db.postgres.util.LinuxUtils;

/**
 * One PostgreSQL server on a data directory, run as a child process of this JVM and kept
 * running: a supervisor thread starts it, waits for it to exit, and starts it again on the same
 * data directory and port whenever it exits without being asked to (with a growing pause, up to
 * {@code trent.database.embedded-restart-delay}, while it keeps failing).
 *
 * <p>The postmaster dies with the JVM where the OS allows: on Linux it is started through
 * {@code setpriv --pdeathsig INT} (util-linux), so a JVM killed by {@code kill -9} or the OOM
 * killer leaves it a SIGINT, PostgreSQL's fast shutdown. The parent-death signal is sent when the
 * <em>thread</em> that started the process ends, so the supervisor thread, which lives as long
 * as the server should, starts every postmaster. Where that is not available (no setpriv, not
 * Linux) or a postmaster outlived its JVM anyway, the next start finds it by its
 * {@code postmaster.pid}, makes sure it is a PostgreSQL serving this very directory, and stops it:
 * SIGINT (fast shutdown: open transactions of the dead JVM roll back, a checkpoint is written),
 * then SIGQUIT (immediate shutdown, recovered from WAL at the next start), then SIGKILL. It is
 * stopped rather than adopted: an adopted server is not this JVM's child, so it could neither be
 * watched nor made to die with the JVM. The caller holds the data directory's lock
 * ({@link EmbeddedPostgresConfiguration}), so such a server cannot belong to a live Trent.
 *
 * @see <a href="https://www.postgresql.org/docs/17/server-shutdown.html">PostgreSQL: Shutting
 *      Down the Server</a>
 */
final class EmbeddedPostmaster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostmaster.class);
    private static final Logger serverLog = LoggerFactory.getLogger("dev.trent.postgres");
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    private static final Duration FIRST_RESTART_DELAY = Duration.ofMillis(200);

    private final Path dataDir;
    private final int port;
    private final String password;
    private final List<String> serverArgs;
    private final Duration maxRestartDelay;
    private final Duration startTimeout;
    private final CompletableFuture<Void> firstStart = new CompletableFuture<>();
    private final AtomicLong starts = new AtomicLong();
    private final Thread supervisor;
    /**
     * Marks the server closing as soon as the JVM begins to shut down (SIGTERM, SIGINT, {@code
     * System.exit}), before Spring gets to {@link #close()}: a postmaster that exits meanwhile is
     * not restarted behind a shutdown.
     */
    private final Thread shutdownHook = new Thread(() -> closing = true, "postgres-supervisor-shutdown");
    private volatile Path binaries;
    private volatile Process process;
    private volatile boolean closing;

    private EmbeddedPostmaster(Path binaries, Path dataDir, int port, String password, Map<String, String> config,
            Duration maxRestartDelay, Duration startTimeout) {
        this.binaries = binaries;
        this.dataDir = dataDir;
        this.port = port;
        this.password = password;
        this.maxRestartDelay = maxRestartDelay;
        this.startTimeout = startTimeout;
        List<String> args = new ArrayList<>(List.of("-D", dataDir.toString(), "-p", Integer.toString(port)));
        config.forEach((k, v) -> args.addAll(List.of("-c", k + "=" + v)));
        this.serverArgs = List.copyOf(args);
        this.supervisor = new Thread(this::supervise, "postgres-supervisor");
        this.supervisor.setDaemon(true);
    }

    /**
     * Starts the server and returns once it accepts connections.
     *
     * @param config server settings ({@code -c name=value})
     */
    static EmbeddedPostmaster start(Path binaries, Path dataDir, int port, String password, Map<String, String> config,
            Duration maxRestartDelay, Duration startTimeout) throws IOException {
        EmbeddedPostmaster postmaster = new EmbeddedPostmaster(binaries, dataDir, port, password, config,
                maxRestartDelay, startTimeout);
        if (!PARENT_DEATH_SIGNAL) {
            log.warn("setpriv --pdeathsig is not available: the embedded PostgreSQL will not stop by itself if this "
                    + "JVM is killed (the next start stops it)");
        }
        Runtime.getRuntime().addShutdownHook(postmaster.shutdownHook);
        postmaster.supervisor.start();
        try {
            postmaster.firstStart.get(startTimeout.toMillis() + 30_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            postmaster.close();
            throw new IOException("interrupted while starting PostgreSQL", e);
        } catch (ExecutionException | TimeoutException e) {
            postmaster.close();
            throw new IOException("the embedded PostgreSQL did not start: " + (e.getCause() == null ? e : e.getCause())
                    .getMessage(), e.getCause() == null ? e : e.getCause());
        }
        return postmaster;
    }

    /** Creates the cluster: SCRAM-SHA-256 for every connection, superuser postgres, UTF-8. */
    static void initdb(Path binaries, Path dataDir, Path passwordFile) throws IOException {
        List<String> command = new ArrayList<>(launcher(false));
        command.addAll(List.of(binaries.resolve("bin/initdb").toString(), "-A", "scram-sha-256", "--pwfile",
                passwordFile.toString(), "-U", "postgres", "-D", dataDir.toString(), "-E", "UTF-8"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        pump(p, "initdb");
        try {
            if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IOException("initdb failed for " + dataDir + " (its output is in the log above)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException("interrupted during initdb", e);
        }
    }

    int port() {
        return port;
    }

    /** The process id of the running postmaster, if one runs. */
    Optional<Long> pid() {
        Process p = process;
        return p != null && p.isAlive() ? Optional.of(p.pid()) : Optional.empty();
    }

    /** How often a postmaster was started (1 after the first start; more after restarts). */
    long starts() {
        return starts.get();
    }

    private void supervise() {
        Duration delay = FIRST_RESTART_DELAY;
        long firstDeadline = System.nanoTime() + startTimeout.toNanos();
        int firstAttempts = 0;
        while (!closing) {
            try {
                stopLeftover();
                Process p = launch();
                awaitReady(p);
                starts.incrementAndGet();
                if (!firstStart.isDone()) {
                    firstStart.complete(null);
                } else {
                    log.warn("Embedded PostgreSQL restarted (pid {}, port {})", p.pid(), port);
                }
                delay = FIRST_RESTART_DELAY;
                int exit = p.waitFor();
                if (closing) {
                    return;
                }
                log.error("Embedded PostgreSQL (pid {}) exited with code {}; restarting it on {}", p.pid(), exit, dataDir);
            } catch (InterruptedException e) {
                if (closing) {
                    return;
                }
            } catch (IOException | RuntimeException | Error e) {
                // Anything, even an Error: this thread's end would end PostgreSQL for good (the
                // parent-death signal follows the thread that started it).
                if (closing) {
                    return;
                }
                if (!firstStart.isDone()) {
                    // Backends of a postmaster stopped just now may still hold its shared memory.
                    if (++firstAttempts >= 5 || System.nanoTime() > firstDeadline) {
                        firstStart.completeExceptionally(e);
                        return;
                    }
                    log.warn("Embedded PostgreSQL did not start ({}); trying again", e.getMessage());
                } else {
                    log.error("Embedded PostgreSQL could not be restarted ({}); next attempt in {} ms", e.getMessage(),
                        delay.toMillis());
                }
            }
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                if (closing) {
                    return;
                }
            }
            delay = delay.multipliedBy(2).compareTo(maxRestartDelay) > 0 ? maxRestartDelay : delay.multipliedBy(2);
        }
    }

    private Process launch() throws IOException {
        if (!Files.isExecutable(binaries.resolve("bin/postgres"))) {
            binaries = PostgresBinaries.unpacked(); // a tmp cleaner removed them
        }
        List<String> command = new ArrayList<>(launcher(true));
        command.add(binaries.resolve("bin/postgres").toString());
        command.addAll(serverArgs);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        process = p;
        pump(p, "postgres");
        log.info("Embedded PostgreSQL started as pid {} on port {} with data in {}", p.pid(), port, dataDir);
        return p;
    }

    /** Waits until the server accepts a login, it exits, or the start timeout passes. */
    private void awaitReady(Process p) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        Properties props = new Properties();
        props.setProperty("user", "postgres");
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "5");
        SQLException last = null;
        long nextReport = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline && !closing) {
            if (System.nanoTime() > nextReport) {
                // Crash recovery replays the WAL written since the last checkpoint; that can take a while.
                log.info("Embedded PostgreSQL (pid {}) does not accept connections yet: {}", p.pid(),
                        last == null ? "no answer" : last.getMessage());
                nextReport = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            }
            if (!p.isAlive()) {
                throw new IOException("PostgreSQL exited with code " + p.exitValue() + " while starting (see its log "
                        + "lines above)");
            }
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres",
                    props)) {
                if (c.isValid(2)) {
                    return;
                }
            } catch (SQLException e) {
                last = e; // not listening yet, or "the database system is starting up" (crash recovery)
            }
            Thread.sleep(100);
        }
        p.destroyForcibly();
        throw new IOException("PostgreSQL did not accept connections within " + startTimeout
                + (last == null ? "" : ": " + last.getMessage()));
    }

    /**
     * Handles a {@code postmaster.pid} left by an earlier run: a PostgreSQL still serving this
     * directory is stopped. A file whose process is gone is left to PostgreSQL: it handles a stale
     * lock file itself, and first checks the shared memory the file names, refusing to start while
     * backends of the dead postmaster still hold it (they exit once they notice its death; the
     * supervisor tries again). A file whose pid now belongs to another program (reused after a
     * reboot) is removed, since PostgreSQL would refuse to start beside a live pid; its postmaster
     * died long ago.
     */
    private void stopLeftover() throws IOException, InterruptedException {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).strip());
        } catch (RuntimeException e) {
            log.warn("Removing an unreadable {}", pidFile);
            Files.deleteIfExists(pidFile);
            return;
        }
        Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        Leftover kind = handle.map(this::classify).orElse(Leftover.GONE);
        if (kind == Leftover.GONE) {
            return;
        }
        if (kind == Leftover.UNKNOWN) {
            throw new IOException("Process " + pid + " named in " + pidFile + " may be a PostgreSQL on this directory, "
                    + "but this user cannot tell (its executable and working directory are unreadable): stop it, or "
                    + "remove " + pidFile + " if it is not PostgreSQL");
        }
        if (kind != Leftover.THIS_DIRECTORY) {
            log.warn("Removing a stale {} (process {} is not a PostgreSQL of this directory)", pidFile, pid);
            Files.deleteIfExists(pidFile);
            return;
        }
        ProcessHandle leftover = handle.get();
        log.warn("A PostgreSQL (pid {}) left running on {} by an earlier run is being stopped (fast shutdown)", pid,
                dataDir);
        if (!stop(leftover, "INT", Duration.ofSeconds(60)) && !stop(leftover, "QUIT", Duration.ofSeconds(10))) {
            leftover.destroyForcibly();
            if (!leftover.onExit().completeOnTimeout(null, 10, TimeUnit.SECONDS).thenApply(h -> !leftover.isAlive())
                    .join()) {
                throw new IOException("PostgreSQL pid " + pid + " on " + dataDir + " does not stop");
            }
        }
        log.info("The earlier PostgreSQL (pid {}) stopped", pid);
    }

    /** What the process named in a leftover {@code postmaster.pid} is. */
    enum Leftover { GONE, OTHER, THIS_DIRECTORY, UNKNOWN }

    /**
     * A postgres executable whose working directory (the postmaster changes into its data
     * directory) or {@code -D} argument is this data directory; another program (the pid was
     * reused); or, when neither can be read, unknown.
     */
    private Leftover classify(ProcessHandle h) {
        Optional<String> command = h.info().command();
        if (command.isPresent() && !Path.of(command.get()).getFileName().toString().equals("postgres")) {
            return Leftover.OTHER;
        }
        try {
            Path cwd = Path.of("/proc", Long.toString(h.pid()), "cwd");
            if (Files.exists(cwd)) {
                Path real = cwd.toRealPath();
                return Files.isSameFile(real, dataDir.toRealPath()) ? Leftover.THIS_DIRECTORY
                        : command.isPresent() ? Leftover.OTHER : Leftover.UNKNOWN;
            }
        } catch (IOException | SecurityException e) {
            // not readable: fall back to the arguments
        }
        Optional<String[]> arguments = h.info().arguments();
        if (command.isEmpty() || arguments.isEmpty()) {
            return Leftover.UNKNOWN;
        }
        List<String> args = List.of(arguments.get());
        int d = args.indexOf("-D");
        return d >= 0 && d + 1 < args.size() && Path.of(args.get(d + 1)).toAbsolutePath().normalize()
                .equals(dataDir.toAbsolutePath().normalize()) ? Leftover.THIS_DIRECTORY : Leftover.UNKNOWN;
    }

    /** Sends a signal and waits for the process to exit. */
    private static boolean stop(ProcessHandle h, String signal, Duration wait) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("/bin/sh", "-c", "kill -s \"$0\" \"$1\"", signal, Long.toString(h.pid()))
                .redirectErrorStream(true).start();
        kill.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        kill.waitFor(10, TimeUnit.SECONDS);
        try {
            h.onExit().get(wait.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return !h.isAlive();
        }
    }

    /**
     * Stops the server (fast shutdown) and the supervisor. The data source must be closed first.
     */
    @Override
    public void close() {
        closing = true;
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // the hook runs, or ran, already
        }
        Process p = process;
        if (p != null && p.isAlive()) {
            try {
                if (!stop(p.toHandle(), "INT", Duration.ofSeconds(60))) {
                    log.warn("Embedded PostgreSQL did not stop within 60 s of a fast shutdown; killing it");
                    p.destroyForcibly();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (IOException e) {
                p.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        supervisor.interrupt();
    }

    /** Copies a child's output, line by line, into Trent's log. */
    /**
     * PostgreSQL's own output, copied into Trent's log at most 20 lines a second (the rest
     * counted on the next line): a client that makes PostgreSQL refuse statements cannot grow the
     * log faster than that.
     */
    private static final LineLimit SERVER_LOG_LIMIT = new LineLimit(20);

    private static void pump(Process p, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    long dropped = SERVER_LOG_LIMIT.admit();
                    if (dropped >= 0) {
                        serverLog.info("{}: {}{}", name, line, dropped > 0 ? " (" + dropped + " earlier lines not logged)"
                                : "");
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
        }, name + "-log-" + p.pid());
        t.setDaemon(true);
        t.start();
    }

    private static final boolean PARENT_DEATH_SIGNAL = LINUX && succeeds("setpriv", "--pdeathsig", "INT", "--", "true");
    private static final boolean OWN_SESSION = LINUX && succeeds("setsid", "true");

    /**
     * For the server: setsid (util-linux), so that it runs in a session and process group of its
     * own and a signal to the JVM's process group (Ctrl-C in a terminal sends SIGINT to every
     * process of the foreground group) does not stop it behind the supervisor's back; setsid
     * forks only when its caller leads a process group, which a child of the JVM never does, so
     * the postmaster stays the JVM's child. Then setpriv with a parent-death signal (kept across
     * the execs that follow). For every command, unshare -U when running as root.
     */
    private static List<String> launcher(boolean server) {
        List<String> prefix = new ArrayList<>();
        if (server && OWN_SESSION) {
            prefix.add("setsid");
        }
        if (server && PARENT_DEATH_SIGNAL) {
            prefix.addAll(List.of("setpriv", "--pdeathsig", "INT", "--"));
        }
        if (LinuxUtils.isUnshareAvailable()) {
            // PostgreSQL refuses to run as root; zonky's way: a user namespace where we are not.
            prefix.addAll(List.of("unshare", "-U"));
        }
        return prefix;
    }

    private static boolean succeeds(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
