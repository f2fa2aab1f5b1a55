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
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Enrollment load against Trent or cfssl with the same requests: a fresh P-256 key (its own CSR)
 * per request, closed-loop clients on one HTTP/1.1 client. A single-file program, JDK 17 only.
 *
 * <pre>
 * java bench/PeerLoad.java --make-csrs N --out csrs.txt [--threads 2]
 * java bench/PeerLoad.java --target trent|cfssl --url http://127.0.0.1:PORT --csrs csrs.txt
 *     [--tokens tokens.csv] [--cold-seconds 30] [--warmup W] [--count M] [--concurrency 16]
 *     [--max-seconds 300] [--cpu-pids server=PID,postgres=PID]
 * </pre>
 *
 * The CSRs are made up front (keys and signatures cost the generator ~1 ms each with the JDK),
 * one base64 DER per line, and each run sends each at most once. Phases, in order, as soon as
 * the target answers: {@code cold} (every request sent in the first {@code --cold-seconds}),
 * {@code warm-up} ({@code --warmup} requests, not measured), {@code steady} ({@code --count}).
 * Trent: {@code POST /api/v1/enroll} with the next token ({@code device_id,token,...} CSV from
 * the batch API) and the CSR as PEM, 201 expected. cfssl: {@code POST /api/v1/cfssl/sign} with
 * {@code {"certificate_request": PEM, "profile": "device"}}, 200 with {@code "success":true}
 * expected. Each phase prints one {@code RESULT} line. Loopback URLs only.
 */
public final class PeerLoad {

    record Phase(String name, int ok, int attempted, long wallNanos, long[] latencies, Map<String, Integer> errors) {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = new TreeMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value pairs, got " + args[i]);
            }
            o.put(args[i].substring(2), args[i + 1]);
        }
        if (o.containsKey("make-csrs")) {
            makeCsrs(Integer.parseInt(o.get("make-csrs")), Path.of(o.get("out")),
                    Integer.parseInt(o.getOrDefault("threads", "2")));
            return;
        }
        String target = o.get("target");
        if (!"trent".equals(target) && !"cfssl".equals(target)) {
            throw new IllegalArgumentException("--target trent or cfssl");
        }
        URI base = URI.create(o.get("url"));
        if (!List.of("127.0.0.1", "localhost", "[::1]").contains(base.getHost())) {
            throw new IllegalArgumentException("loopback URLs only");
        }
        List<String> csrs = Files.readAllLines(Path.of(o.get("csrs")));
        List<String> tokens = target.equals("trent") ? Files.readAllLines(Path.of(o.get("tokens"))).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("device_id,")).map(l -> l.split(",")[1]).toList() : null;
        int coldSeconds = Integer.parseInt(o.getOrDefault("cold-seconds", "30"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "20000"));
        int count = Integer.parseInt(o.getOrDefault("count", "10000"));
        int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "16"));
        int maxSeconds = Integer.parseInt(o.getOrDefault("max-seconds", "300"));
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        AtomicInteger cursor = new AtomicInteger();
        int available = tokens == null ? csrs.size() : Math.min(csrs.size(), tokens.size());
        System.out.printf(Locale.ROOT, "PeerLoad: %s at %s, %d clients, fresh key per request (%d CSRs, %d usable)%n",
                target, base, concurrency, csrs.size(), available);
        Phase cold = run("cold", target, client, base, csrs, tokens, cursor, available, Integer.MAX_VALUE,
                coldSeconds, concurrency);
        print(target, cold);
        if (warmup > 0) {
            print(target, run("warm-up", target, client, base, csrs, tokens, cursor, available, warmup, maxSeconds,
                    concurrency));
        }
        Map<String, Long> before = cpu(o.getOrDefault("cpu-pids", ""));
        Phase steady = run("steady", target, client, base, csrs, tokens, cursor, available, count, maxSeconds,
                concurrency);
        Map<String, Long> after = cpu(o.getOrDefault("cpu-pids", ""));
        print(target, steady);
        if (steady.ok() > 0) {
            // CPU per certificate in the steady phase: each named process with its descendants
            // (a PostgreSQL's backends), and this load generator; the throughput ratio of servers
            // sharing the cores with their load generator hides what each server costs.
            StringBuilder line = new StringBuilder("RESULT target=" + target + " phase=steady-cpu");
            StringBuilder text = new StringBuilder("[" + target + "] steady CPU per certificate:");
            for (String name : after.keySet()) {
                double ms = (after.get(name) - before.getOrDefault(name, 0L)) / 1e6 / steady.ok();
                line.append(String.format(Locale.ROOT, " %s_ms=%.3f", name, ms));
                text.append(String.format(Locale.ROOT, " %s %.3f ms", name, ms));
            }
            System.out.println(text);
            System.out.println(line);
        }
    }

    /**
     * CPU time so far, in nanoseconds, of each {@code name=pid} in {@code spec} (the process and
     * its live descendants) and of this process ({@code client}).
     */
    static Map<String, Long> cpu(String spec) {
        Map<String, Long> cpu = new TreeMap<>();
        for (String entry : spec.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            String[] kv = entry.split("=", 2);
            long total = 0;
            var root = ProcessHandle.of(Long.parseLong(kv[1].trim()));
            if (root.isPresent()) {
                total += cpuNanos(root.get()) + reapedNanos(root.get().pid());
                total += root.get().descendants().mapToLong(PeerLoad::cpuNanos).sum();
            }
            cpu.put(kv[0].trim(), total);
            long jit = jitNanos(Long.parseLong(kv[1].trim()));
            if (jit > 0) {
                cpu.put(kv[0].trim() + "_jit", jit);
            }
        }
        cpu.put("client", cpuNanos(ProcessHandle.current()));
        return cpu;
    }

    /**
     * CPU time so far of a JVM's JIT compiler threads (Linux: the tasks named "C1 CompilerThre..."
     * and "C2 CompilerThre..." in /proc; 0 for any other process). Part of the process's CPU,
     * shown on its own: the compilations that still run in a phase compete with its requests for
     * the cores. A compiler thread that exits within the phase takes its time with it (HotSpot
     * starts and stops them as the queue grows and shrinks), so this is a lower bound.
     */
    static long jitNanos(long pid) {
        java.io.File[] tasks = new java.io.File("/proc/" + pid + "/task").listFiles();
        if (tasks == null) {
            return 0;
        }
        long ticks = 0;
        for (java.io.File task : tasks) {
            try {
                String comm = Files.readString(task.toPath().resolve("comm")).trim();
                if (!comm.startsWith("C1 CompilerThre") && !comm.startsWith("C2 CompilerThre")) {
                    continue;
                }
                String stat = Files.readString(task.toPath().resolve("stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14, 15)
            } catch (IOException | RuntimeException e) {
                // the thread ended meanwhile
            }
        }
        return ticks * 10_000_000L; // USER_HZ is 100 on Linux
    }

    /**
     * CPU of the children that {@code pid} has waited for (cutime and cstime in /proc/PID/stat;
     * 0 off Linux): a PostgreSQL server's ended backends and autovacuum workers. cfssl's certdb
     * opens a new connection every few requests (Go's database/sql keeps 2 idle), so leaving them
     * out showed its PostgreSQL at a tenth of what it costs.
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

    static long cpuNanos(ProcessHandle p) {
        return p.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    static Phase run(String name, String target, HttpClient client, URI base, List<String> csrs, List<String> tokens,
            AtomicInteger cursor, int available, int limit, int seconds, int concurrency) throws InterruptedException {
        URI uri = base.resolve(target.equals("trent") ? "/api/v1/enroll" : "/api/v1/cfssl/sign");
        AtomicInteger sent = new AtomicInteger();
        long[] latencies = new long[Math.min(limit, available)];
        Arrays.fill(latencies, -1);
        LongAdder ok = new LongAdder();
        Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(seconds).toNanos();
        CountDownLatch done = new CountDownLatch(concurrency);
        for (int c = 0; c < concurrency; c++) {
            Thread t = new Thread(() -> {
                try {
                    while (System.nanoTime() < deadline) {
                        int n = sent.getAndIncrement();
                        if (n >= latencies.length) {
                            return;
                        }
                        int i = cursor.getAndIncrement();
                        if (i >= available) {
                            errors.computeIfAbsent("out of CSRs or tokens", k -> new AtomicInteger()).incrementAndGet();
                            return;
                        }
                        String pem = pem(csrs.get(i));
                        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
                        if (target.equals("trent")) {
                            b.header("Authorization", "Bearer " + tokens.get(i))
                                    .header("Content-Type", "application/x-pem-file")
                                    .header("Accept", "application/pem-certificate-chain")
                                    .POST(HttpRequest.BodyPublishers.ofString(pem));
                        } else {
                            b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                                    "{\"certificate_request\":\"" + pem.replace("\n", "\\n") + "\",\"profile\":\"device\"}"));
                        }
                        long t0 = System.nanoTime();
                        String outcome;
                        try {
                            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
                            boolean good = target.equals("trent") ? r.statusCode() == 201
                                    : r.statusCode() == 200 && r.body().contains("\"success\":true");
                            outcome = good ? null : "HTTP " + r.statusCode();
                        } catch (IOException e) {
                            outcome = e.getClass().getSimpleName();
                        }
                        latencies[n] = System.nanoTime() - t0;
                        if (outcome == null) {
                            ok.increment();
                        } else {
                            errors.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    done.countDown();
                }
            }, "load-" + c);
            t.setDaemon(true);
            t.start();
        }
        done.await();
        long wall = System.nanoTime() - start;
        Map<String, Integer> errs = new TreeMap<>();
        errors.forEach((k, v) -> errs.put(k, v.get()));
        long[] measured = Arrays.stream(latencies).filter(l -> l >= 0).sorted().toArray();
        return new Phase(name, (int) ok.sum(), measured.length, wall, measured, errs);
    }

    static void print(String target, Phase p) {
        double seconds = p.wallNanos() / 1e9;
        double rate = p.ok() / seconds;
        System.out.printf(Locale.ROOT, "[%s] %-7s %6d requests in %6.2f s: %7.1f certificates/s; p50 %.1f  p90 %.1f  "
                + "p99 %.1f  max %.1f ms; errors %s%n", target, p.name(), p.attempted(), seconds, rate,
                pct(p.latencies(), 50), pct(p.latencies(), 90), pct(p.latencies(), 99), pct(p.latencies(), 100),
                p.errors().isEmpty() ? "none" : p.errors());
        System.out.printf(Locale.ROOT, "RESULT target=%s phase=%s per_s=%.1f p50_ms=%.1f p99_ms=%.1f ok=%d errors=%d%n",
                target, p.name(), rate, pct(p.latencies(), 50), pct(p.latencies(), 99), p.ok(),
                p.errors().values().stream().mapToInt(Integer::intValue).sum());
    }

    /** Nearest-rank percentile in ms. */
    static double pct(long[] sorted, int p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
    }

    static String pem(String base64Der) {
        StringBuilder s = new StringBuilder("-----BEGIN CERTIFICATE REQUEST-----\n");
        for (int i = 0; i < base64Der.length(); i += 64) {
            s.append(base64Der, i, Math.min(base64Der.length(), i + 64)).append('\n');
        }
        return s.append("-----END CERTIFICATE REQUEST-----\n").toString();
    }

    // ---- CSRs: a P-256 key each, PKCS#10 DER written by hand (the JDK has no CSR builder) ----

    static void makeCsrs(int n, Path out, int threads) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<String>>> parts = new ArrayList<>();
        int per = (n + threads - 1) / threads;
        for (int t = 0; t < threads; t++) {
            int from = t * per;
            int to = Math.min(n, from + per);
            parts.add(pool.submit(() -> {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
                Signature sig = Signature.getInstance("SHA256withECDSA");
                List<String> lines = new ArrayList<>();
                for (int i = from; i < to; i++) {
                    lines.add(Base64.getEncoder().encodeToString(csr(g.generateKeyPair(), sig, "peer-" + i)));
                }
                return lines;
            }));
        }
        List<String> all = new ArrayList<>();
        for (Future<List<String>> f : parts) {
            all.addAll(f.get());
        }
        pool.shutdown();
        Files.write(out, all, StandardCharsets.US_ASCII);
    }

    static byte[] csr(KeyPair keys, Signature sig, String cn) throws Exception {
        byte[] name = seq(set(seq(concat(oid(new byte[] {0x55, 0x04, 0x03}), utf8(cn)))));
        byte[] info = seq(concat(new byte[] {0x02, 0x01, 0x00}, name, keys.getPublic().getEncoded(),
                new byte[] {(byte) 0xa0, 0x00}));
        sig.initSign(keys.getPrivate());
        sig.update(info);
        byte[] signature = sig.sign();
        byte[] alg = seq(oid(new byte[] {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02}));
        return seq(concat(info, alg, tlv(0x03, concat(new byte[] {0}, signature))));
    }

    static byte[] oid(byte[] body) {
        return tlv(0x06, body);
    }

    static byte[] utf8(String s) {
        return tlv(0x0c, s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] seq(byte[] body) {
        return tlv(0x30, body);
    }

    static byte[] set(byte[] body) {
        return tlv(0x31, body);
    }

    static byte[] tlv(int tag, byte[] body) {
        byte[] len;
        if (body.length < 128) {
            len = new byte[] {(byte) body.length};
        } else if (body.length < 256) {
            len = new byte[] {(byte) 0x81, (byte) body.length};
        } else {
            len = new byte[] {(byte) 0x82, (byte) (body.length >> 8), (byte) body.length};
        }
        return concat(new byte[] {(byte) tag}, len, body);
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int i = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }
}
