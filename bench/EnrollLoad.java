import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Enrollment load generator for Trent: a single-file source program (JDK 17, no dependencies).
 *
 * <pre>
 * java bench/EnrollLoad.java --print-csr      (prints a fresh CSR and exits)
 * java bench/EnrollLoad.java --url http://127.0.0.1:8080 --tokens tokens.csv \
 *     [--warmup 2000] [--count 20000] [--concurrency 16] [--max-seconds 120] [--csr file.pem] \
 *     [--watch name=pid[,name=pid...]] [--mark DIR]
 * </pre>
 *
 * Reads {@code device_id,token,profile,expires_at} lines (the batch API's CSV), spends the first
 * {@code --warmup} tokens on an unmeasured warm-up and the next {@code --count} on the measured
 * run, each with {@code --concurrency} closed-loop clients (each sends its next request as soon as
 * the previous answer arrives). One P-256 CSR, generated here unless {@code --csr} names one,
 * serves every request. Each phase stops at {@code --max-seconds}. Only loopback URLs are allowed.
 *
 * <p>{@code --watch} names processes (with all their descendants) whose CPU time is reported for
 * the measured phase, together with the whole machine's busy time from /proc/stat. {@code --mark}
 * names a directory where the files {@code measured.start} and {@code measured.end} are written
 * as the measured phase begins and ends (the script's sampler waits for them).
 */
public final class EnrollLoad {

    record Options(URI url, Path tokens, int warmup, int count, int concurrency, int maxSeconds, Path csr,
            Map<String, Long> watch, Path mark) {
    }

    record PhaseResult(String name, int attempted, int ok, long wallNanos, long[] latenciesNanos,
            Map<String, Integer> errors) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && args[0].equals("--print-csr")) {
            System.out.write(generateCsrPem());
            System.out.flush();
            return;
        }
        Options o = parse(args);
        List<String> tokens = readTokens(o.tokens());
        int needed = o.warmup() + o.count();
        if (tokens.size() < needed) {
            throw new IllegalArgumentException("need " + needed + " tokens, the CSV has " + tokens.size());
        }
        byte[] csr = o.csr() != null ? Files.readAllBytes(o.csr()) : generateCsrPem();
        HttpClient client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .build();
        URI enroll = o.url().resolve("/api/v1/enroll");
        System.out.printf(Locale.ROOT, "EnrollLoad: %s, %d warm-up + %d measured enrollments, %d clients, "
                + "limit %d s per phase, CSR %d bytes%n", enroll, o.warmup(), o.count(), o.concurrency(),
                o.maxSeconds(), csr.length);

        if (o.warmup() > 0) {
            PhaseResult w = run("warm-up", client, enroll, csr, tokens.subList(0, o.warmup()), o.concurrency(),
                    o.maxSeconds());
            print(w);
        }
        Map<String, Long> cpuBefore = cpu(o.watch());
        Map<String, Long> threadsBefore = threadCpu(o.watch());
        long[] statBefore = machineTicks();
        mark(o.mark(), "measured.start");
        PhaseResult m = run("measured", client, enroll, csr, tokens.subList(o.warmup(), needed), o.concurrency(),
                o.maxSeconds());
        long[] statAfter = machineTicks();
        mark(o.mark(), "measured.end");
        Map<String, Long> cpuAfter = cpu(o.watch());
        Map<String, Long> threadsAfter = threadCpu(o.watch());
        print(m);
        printCpu(m.wallNanos(), cpuBefore, cpuAfter, statBefore, statAfter);
        printThreads(m.wallNanos(), threadsBefore, threadsAfter);
    }

    static PhaseResult run(String name, HttpClient client, URI enroll, byte[] csr, List<String> tokens,
            int concurrency, int maxSeconds) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        long[] latencies = new long[tokens.size()];
        Arrays.fill(latencies, -1);
        LongAdder ok = new LongAdder();
        Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(maxSeconds).toNanos();
        CountDownLatch done = new CountDownLatch(concurrency);
        for (int c = 0; c < concurrency; c++) {
            Thread t = new Thread(() -> {
                try {
                    int i;
                    while ((i = next.getAndIncrement()) < tokens.size() && System.nanoTime() < deadline) {
                        HttpRequest request = HttpRequest.newBuilder(enroll)
                                .timeout(Duration.ofSeconds(30))
                                .header("Authorization", "Bearer " + tokens.get(i))
                                .header("Content-Type", "application/x-pem-file")
                                .header("Accept", "application/pem-certificate-chain")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(csr))
                                .build();
                        long t0 = System.nanoTime();
                        String outcome;
                        try {
                            HttpResponse<byte[]> response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
                            outcome = response.statusCode() == 201 ? null : "HTTP " + response.statusCode();
                        } catch (IOException e) {
                            outcome = e.getClass().getSimpleName();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            return;
                        }
                        latencies[i] = System.nanoTime() - t0;
                        if (outcome == null) {
                            ok.increment();
                        } else {
                            errors.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                } finally {
                    done.countDown();
                }
            }, "client-" + c);
            t.setDaemon(true);
            t.start();
        }
        done.await();
        long wall = System.nanoTime() - start;
        long[] measured = Arrays.stream(latencies).filter(l -> l >= 0).sorted().toArray();
        Map<String, Integer> errs = new TreeMap<>();
        errors.forEach((k, v) -> errs.put(k, v.get()));
        if (System.nanoTime() >= deadline && measured.length < tokens.size()) {
            errs.put("not sent (time limit)", tokens.size() - measured.length);
        }
        return new PhaseResult(name, measured.length, ok.intValue(), wall, measured, errs);
    }

    static void print(PhaseResult r) {
        double seconds = r.wallNanos() / 1e9;
        long[] l = r.latenciesNanos();
        System.out.printf(Locale.ROOT, "%n[%s] %d requests in %.2f s: %.0f enrollments/s (201 only), %.0f requests/s%n",
                r.name(), r.attempted(), seconds, r.ok() / seconds, r.attempted() / seconds);
        if (l.length > 0) {
            System.out.printf(Locale.ROOT, "[%s] latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  mean %.1f%n",
                    r.name(), ms(pct(l, 50)), ms(pct(l, 90)), ms(pct(l, 99)), ms(l[l.length - 1]),
                    ms((long) Arrays.stream(l).average().orElse(0)));
        }
        System.out.printf(Locale.ROOT, "[%s] ok (201): %d; errors: %s%n", r.name(), r.ok(),
                r.errors().isEmpty() ? "none" : r.errors());
        if (r.name().equals("measured")) {
            System.out.printf(Locale.ROOT, "RESULT enroll_per_s=%.0f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f "
                    + "ok=%d errors=%d%n", r.ok() / seconds, ms(pct(l, 50)), ms(pct(l, 90)), ms(pct(l, 99)),
                    l.length == 0 ? 0 : ms(l[l.length - 1]), r.ok(),
                    r.errors().values().stream().mapToInt(Integer::intValue).sum());
        }
    }

    /** Nearest-rank percentile of sorted values. */
    static long pct(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static double ms(long nanos) {
        return nanos / 1e6;
    }

    // ---- CPU accounting: per watched process tree, and the whole machine ----

    static Map<String, Long> cpu(Map<String, Long> watch) {
        Map<String, Long> out = new LinkedHashMap<>();
        // Each process with its descendants, except those watched under a name of their own
        // (Trent starts its embedded PostgreSQL as a child: counted once, as "postgres").
        watch.forEach((name, pid) -> out.put(name, treeCpuNanos(pid, subtrees(watch.values(), pid))));
        out.put("load generator (this JVM)", ProcessHandle.current().info().totalCpuDuration()
                .map(Duration::toNanos).orElse(-1L));
        return out;
    }

    static long treeCpuNanos(long pid) {
        return treeCpuNanos(pid, java.util.Set.of());
    }

    /** CPU of {@code pid} and its descendants, leaving out the processes in {@code excluded}. */
    static long treeCpuNanos(long pid, java.util.Set<Long> excluded) {
        return ProcessHandle.of(pid).map(p -> {
            long total = p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L) + reapedNanos(pid);
            total += p.descendants().filter(d -> !excluded.contains(d.pid()))
                    .mapToLong(d -> d.info().totalCpuDuration().map(Duration::toNanos).orElse(0L)).sum();
            return total;
        }).orElse(-1L);
    }

    /**
     * CPU of the children that {@code pid} has waited for (cutime and cstime in /proc/PID/stat;
     * 0 off Linux): a PostgreSQL server's ended backends and autovacuum workers. Left out, a
     * server whose clients open a connection per request (cfssl's certdb does) looks far cheaper
     * than it is.
     */
    static long reapedNanos(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[13]) + Long.parseLong(f[14])) * 10_000_000L; // fields 16, 17; USER_HZ 100
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * The processes of the other watched trees (each watched pid but {@code self}, with its
     * descendants), except a tree that holds {@code self}: an ancestor's (Trent's, for its
     * embedded PostgreSQL) would otherwise leave {@code self}'s own descendants out of its count.
     */
    static java.util.Set<Long> subtrees(java.util.Collection<Long> watched, long self) {
        java.util.Set<Long> out = new java.util.HashSet<>();
        for (long pid : watched) {
            if (pid == self) {
                continue;
            }
            ProcessHandle.of(pid).ifPresent(p -> {
                java.util.Set<Long> tree = new java.util.HashSet<>();
                tree.add(pid);
                p.descendants().forEach(d -> tree.add(d.pid()));
                if (!tree.contains(self)) {
                    out.addAll(tree);
                }
            });
        }
        return out;
    }

    /** {busy, total} jiffies over all CPUs from /proc/stat, or null off Linux. */
    static long[] machineTicks() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long total = 0;
            for (int i = 1; i < f.length && i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            long idle = Long.parseLong(f[4]) + Long.parseLong(f[5]);
            return new long[] {total - idle, total};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    static void printCpu(long wallNanos, Map<String, Long> before, Map<String, Long> after, long[] statBefore,
            long[] statAfter) {
        int cores = Runtime.getRuntime().availableProcessors();
        System.out.printf(Locale.ROOT, "%n[cpu] during the measured phase (%.1f s wall, %d cores = %.0f%% max):%n",
                wallNanos / 1e9, cores, cores * 100.0);
        before.forEach((name, b) -> {
            long a = after.getOrDefault(name, -1L);
            if (b < 0 || a < 0) {
                System.out.printf(Locale.ROOT, "[cpu]   %-28s n/a%n", name);
            } else {
                System.out.printf(Locale.ROOT, "[cpu]   %-28s %7.2f s CPU = %5.0f%% of one core%n", name,
                        (a - b) / 1e9, 100.0 * (a - b) / wallNanos);
            }
        });
        if (statBefore != null && statAfter != null) {
            double busy = (double) (statAfter[0] - statBefore[0]) / (statAfter[1] - statBefore[1]);
            double watched = 0;
            for (Map.Entry<String, Long> e : before.entrySet()) {
                long a = after.getOrDefault(e.getKey(), -1L);
                if (e.getValue() >= 0 && a >= 0) {
                    watched += (a - e.getValue()) / (double) wallNanos;
                }
            }
            System.out.printf(Locale.ROOT, "[cpu]   everything else on the machine        = %5.0f%% of one core%n",
                    Math.max(0, busy * cores - watched) * 100);
            System.out.printf(Locale.ROOT, "[cpu]   whole machine busy           %5.0f%% of all cores (/proc/stat)%n",
                    busy * 100);
        }
    }

    /**
     * CPU ticks per thread group ("name: thread name without its number") of each watched
     * process itself (not its descendants), from /proc/PID/task/TID/{comm,stat}. Threads that
     * end during the phase are missed; Tomcat's and the JVM's threads live for the whole run.
     */
    static Map<String, Long> threadCpu(Map<String, Long> watch) {
        Map<String, Long> out = new TreeMap<>();
        watch.forEach((name, pid) -> {
            try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                tasks.forEach(t -> {
                    try {
                        String comm = Files.readString(t.resolve("comm")).strip();
                        String stat = Files.readString(t.resolve("stat"));
                        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
                        String group = name + ": " + comm.replaceAll("[-#]?\\d+$", "").replaceAll("\\d+$", "");
                        out.merge(group, ticks, Long::sum);
                    } catch (IOException | RuntimeException e) {
                        // the thread ended while we looked
                    }
                });
            } catch (IOException | RuntimeException e) {
                // not Linux, or the process is gone
            }
        });
        return out;
    }

    static void printThreads(long wallNanos, Map<String, Long> before, Map<String, Long> after) {
        if (after.isEmpty()) {
            return;
        }
        double tickNanos = 1e9 / 100; // USER_HZ is 100 on Linux
        System.out.printf(Locale.ROOT, "%n[threads] CPU by thread group during the measured phase (%% of one core):%n");
        after.entrySet().stream()
                .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
                .filter(e -> e.getValue() > 0)
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .limit(12)
                .forEach(e -> System.out.printf(Locale.ROOT, "[threads]   %-40s %5.1f%%%n", e.getKey(),
                        100.0 * e.getValue() * tickNanos / wallNanos));
    }

    // ---- input ----

    static List<String> readTokens(Path csv) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(csv, StandardCharsets.UTF_8)) {
            String[] f = line.strip().split(",");
            if (f.length >= 2 && !f[0].equals("device_id")) {
                out.add(f[1]);
            }
        }
        return out;
    }

    static Options parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: --url URL --tokens CSV [--warmup N] [--count N] "
                        + "[--concurrency N] [--max-seconds N] [--csr FILE] [--watch name=pid,...] [--mark DIR]");
            }
            a.put(args[i].substring(2), args[++i]);
        }
        URI url = URI.create(a.getOrDefault("url", "http://127.0.0.1:8080"));
        if (!"127.0.0.1".equals(url.getHost()) && !"localhost".equals(url.getHost()) && !"[::1]".equals(url.getHost())) {
            throw new IllegalArgumentException("refusing to load anything but loopback: " + url);
        }
        Map<String, Long> watch = new LinkedHashMap<>();
        for (String w : a.getOrDefault("watch", "").split(",")) {
            if (!w.isBlank()) {
                String[] kv = w.split("=", 2);
                watch.put(kv[0], Long.parseLong(kv[1].strip()));
            }
        }
        return new Options(url, Path.of(required(a, "tokens")), Integer.parseInt(a.getOrDefault("warmup", "2000")),
                Integer.parseInt(a.getOrDefault("count", "20000")), Integer.parseInt(a.getOrDefault("concurrency", "16")),
                Integer.parseInt(a.getOrDefault("max-seconds", "120")), a.containsKey("csr") ? Path.of(a.get("csr")) : null,
                watch, a.containsKey("mark") ? Path.of(a.get("mark")) : null);
    }

    /** Touches {@code dir/name} so that a sampler outside can follow the phases. */
    static void mark(Path dir, String name) throws IOException {
        if (dir != null) {
            Files.writeString(dir.resolve(name), Long.toString(System.currentTimeMillis()));
        }
    }

    static String required(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }

    // ---- a PKCS#10 CSR (RFC 2986) for a fresh P-256 key, DER-encoded by hand: JDK only ----

    static byte[] generateCsrPem() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        byte[] cn = "enroll-bench".getBytes(StandardCharsets.UTF_8);
        byte[] name = der(0x30, der(0x31, der(0x30, cat(der(0x06, new byte[] {0x55, 0x04, 0x03}), der(0x0c, cn)))));
        byte[] info = der(0x30, cat(der(0x02, new byte[] {0}), name, kp.getPublic().getEncoded(), der(0xa0, new byte[0])));
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(kp.getPrivate());
        s.update(info);
        byte[] sig = s.sign();
        byte[] ecdsaWithSha256 = der(0x30, der(0x06, new byte[] {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02}));
        byte[] csr = der(0x30, cat(info, ecdsaWithSha256, der(0x03, cat(new byte[] {0}, sig))));
        String b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(csr);
        return ("-----BEGIN CERTIFICATE REQUEST-----\n" + b64 + "\n-----END CERTIFICATE REQUEST-----\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] der(int tag, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = content.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(content);
        return out.toByteArray();
    }

    static byte[] cat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
