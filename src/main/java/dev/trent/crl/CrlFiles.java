package dev.trent.crl;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;
import dev.trent.pki.Hashes;
import dev.trent.pki.Pem;

/**
 * Writes the issuers' current CRLs as PEM files into {@code trent.crl.publish-dir}, for brokers
 * and proxies that read a CRL file rather than fetch one (Mosquitto's {@code crlfile}, nginx's
 * {@code ssl_crl}, HAProxy's {@code crl-file}): {@code <issuerId>.crl.pem} per issuer and
 * {@code crls.pem} with all of them, since those take one file that may hold several CRLs.
 * Each file is replaced atomically (a temporary file in the same directory, then a rename), is
 * readable by other users (0644: the broker runs as its own user), and is written only when its
 * bytes change. After a change, {@code trent.crl.publish-command} runs through
 * {@code /bin/sh -c} on a thread of its own, never on a request or on the CRL scheduler, with
 * {@code TRENT_CRL_DIR} and {@code TRENT_CRL_FILE} (the combined file) in its environment; it is
 * killed after {@code trent.crl.publish-command-timeout}, and its exit status and first line of
 * output are logged. Nothing here is ever fatal: a failure is logged and retried at the next change
 * (files) or left to the next change (the command).
 */
@Component
class CrlFiles implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(CrlFiles.class);
    static final String COMBINED = "crls.pem";
    /** The variables of Trent's environment that the publish command sees (besides TRENT_CRL_*). */
    private static final java.util.Set<String> PASSED_ENVIRONMENT = Set.of("PATH", "HOME", "USER", "LOGNAME",
            "LANG", "LC_ALL", "TZ", "TMPDIR");
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");

    private final Path dir;
    private final String command;
    private final Duration timeout;
    private final ExecutorService runner;
    private final AtomicBoolean runPending = new AtomicBoolean();

    CrlFiles(TrentProperties properties) {
        TrentProperties.Crl crl = properties.crl();
        this.dir = crl.publishDir() == null ? null : crl.publishDir().toAbsolutePath();
        this.command = crl.publishCommand();
        this.timeout = crl.publishCommandTimeout();
        this.runner = command == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "trent-crl-publish-command");
            t.setDaemon(true);
            return t;
        });
    }

    boolean enabled() {
        return dir != null;
    }

    /**
     * Writes every given CRL and the combined file where their bytes changed, then starts the
     * command if anything changed. Called from the CRL scheduler only.
     *
     * @return whether every file is now current (false: retry at the next tick)
     */
    synchronized boolean publish(List<CrlPublisher.PublishedCrl> crls) {
        if (dir == null) {
            return true;
        }
        boolean changed = false;
        StringBuilder combined = new StringBuilder();
        try {
            Files.createDirectories(dir);
            for (CrlPublisher.PublishedCrl crl : crls.stream()
                    .sorted(Comparator.comparing(CrlPublisher.PublishedCrl::issuerId)).toList()) {
                String pem = Pem.encode("X509 CRL", crl.der());
                combined.append(pem);
                if (!SAFE_NAME.matcher(crl.issuerId()).matches()) {
                    log.warn("Not writing a CRL file for issuer id {}: not usable as a file name", crl.issuerId());
                    continue;
                }
                changed |= write(crl.issuerId() + ".crl.pem", pem.getBytes(StandardCharsets.US_ASCII));
            }
            changed |= write(COMBINED, combined.toString().getBytes(StandardCharsets.US_ASCII));
        } catch (IOException | RuntimeException e) {
            log.error("Cannot write the CRL files in {}; will retry", dir, e);
            if (changed) {
                runCommand();
            }
            return false;
        }
        if (changed) {
            runCommand();
        }
        return true;
    }

    /** Replaces {@code name} atomically unless it already holds exactly these bytes. */
    private boolean write(String name, byte[] bytes) throws IOException {
        Path target = dir.resolve(name);
        String sha256 = Hashes.sha256Hex(bytes);
        // What the file holds now, not what this instance last wrote: another instance sharing the
        // directory may have written these very bytes already (then neither write nor command).
        String known = Files.isRegularFile(target) ? Hashes.sha256Hex(Files.readAllBytes(target)) : null;
        if (sha256.equals(known)) {
            return false;
        }
        Path temp = Files.createTempFile(dir, "." + name + "-", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.setPosixFilePermissions(temp, READABLE);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + dir + " cannot rename atomically", e);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
        log.info("Wrote CRL file {} ({} bytes)", target, bytes.length);
        return true;
    }

    /** Starts the command unless a run is already waiting (one run then covers every change so far). */
    private void runCommand() {
        if (runner == null || !runPending.compareAndSet(false, true)) {
            return;
        }
        runner.execute(() -> {
            runPending.set(false);
            run();
        });
    }

    private void run() {
        Path output = null;
        Process p = null;
        long started = System.nanoTime();
        try {
            output = Files.createTempFile("trent-crl-publish-", ".out");
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", command).directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(output.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
            // Only what a command needs: Trent's own environment holds secrets (database and broker
            // passwords, PINs), and the command's first line of output is logged.
            Map<String, String> env = pb.environment();
            env.keySet().retainAll(PASSED_ENVIRONMENT);
            env.put("TRENT_CRL_DIR", dir.toString());
            pb.environment().put("TRENT_CRL_FILE", dir.resolve(COMBINED).toString());
            p = pb.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
                log.warn("CRL publish command killed after {}; output: {}", timeout, firstLine(output));
                return;
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            if (p.exitValue() == 0) {
                log.info("CRL publish command exited 0 in {} ms; output: {}", ms, firstLine(output));
            } else {
                log.warn("CRL publish command exited {} in {} ms; output: {}", p.exitValue(), ms, firstLine(output));
            }
        } catch (IOException e) {
            log.warn("CRL publish command could not be run: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill(p);
            log.warn("CRL publish command stopped: Trent is shutting down");
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException e) {
                    log.debug("Cannot delete {}: {}", output, e.toString());
                }
            }
        }
    }

    /** Kills the shell and everything it started. */
    private static void kill(Process p) {
        if (p == null) {
            return;
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static String firstLine(Path output) throws IOException {
        try (BufferedReader r = Files.newBufferedReader(output, StandardCharsets.UTF_8)) {
            String line = r.readLine();
            if (line == null) {
                return "(none)";
            }
            return line.length() > 200 ? line.substring(0, 200) + "..." : line;
        } catch (java.nio.charset.MalformedInputException e) {
            return "(not UTF-8)";
        }
    }

    @Override
    public void destroy() {
        if (runner != null) {
            runner.shutdownNow();
        }
    }
}
