package dev.trent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.CRLDistPoint;
import org.bouncycastle.asn1.x509.DistributionPoint;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.StandardEnvironment;

import dev.trent.pki.Pem;
import dev.trent.pki.PrivateFiles;
import dev.trent.security.Secrets;
import dev.trent.tls.TlsServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code java -jar trent.jar train [--enrollments N] [--concurrency C]}: a training run for a JVM
 * ahead-of-time cache (JDK 25, {@code -XX:AOTCacheOutput}; the container image makes one at build
 * time). It starts Trent as it runs in production, but on a throwaway data directory with its own
 * embedded PostgreSQL, a keystore CA and loopback ports, and none of the environment's settings
 * (Spring's environment holds neither the environment variables nor the system properties, and
 * only the jar's own application.yml is read, so no database URL, profile, config import or
 * /run/secrets file can point it at a real database, broker or webhook; only the JVM's own options
 * and Trent's crypto provider switch, TRENT_CRYPTO_NATIVE, still apply): then it sends what a fleet
 * sends (N enrollments with fresh P-256 keys and one-time tokens, over REST in the response formats
 * devices ask for and over EST on Trent's TLS listener, renewals over mutual TLS, OCSP requests and
 * CRL downloads), stops Trent and removes the directory. The JVM then
 * writes the classes it loaded (and, unless told otherwise, the methods' profiles; the image leaves
 * them out, JDK-8386852) to the cache, so a later start skips that work (bench/README.md, "The load
 * generator, and cfssl's PostgreSQL"). Exit 0 when every request got the answer a
 * device would expect, 1 otherwise (the first unexpected answer printed), 2 on usage errors.
 */
@Command(name = "java -jar trent.jar train", customSynopsis = {
    "java -jar trent.jar train [--enrollments N] [--concurrency C]",
    "         (e.g. java -XX:AOTCacheOutput=trent.aot -jar trent.jar train, on JDK 25)"},
        description = "enroll N devices (REST and EST), renew some, query OCSP and fetch CRLs on a throwaway Trent "
                + "(its own data directory "
                + "and PostgreSQL, none of the environment's settings) and stop: a training run for an AOT cache")
public final class TrainCli implements Callable<Integer> {

    private static final int MAX_ENROLLMENTS = 100_000;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);
    /** What devices enrolling over REST ask for ({@code POST /api/v1/enroll}'s Accept), by device number mod 4. */
    private static final List<String> ACCEPTS = List.of("application/pem-certificate-chain", "application/json",
            "application/pkix-cert");

    private final PrintStream out;
    private final Class<?> application;

    @CommandLine.Mixin
    private CaCli.Help help;

    @Option(names = "--enrollments", paramLabel = "N", defaultValue = "3000", converter = CaCli.Number.class,
            description = "how many devices enroll (1 to 100000; default 3000)")
    int enrollments;

    @Option(names = "--concurrency", paramLabel = "C", defaultValue = "8", converter = CaCli.Number.class,
            description = "requests in flight at once (1 to 64; default 8)")
    int concurrency;

    private TrainCli(PrintStream out, Class<?> application) {
        this.out = out;
        this.application = application;
    }

    /** Thrown when Trent answers a training request otherwise than a device expects. */
    static final class TrainingFailed extends RuntimeException {
        TrainingFailed(String message) {
            super(message);
        }
    }

    /**
     * @param application Trent's Spring Boot application class
     * @return 0 trained, 1 an answer was not the expected one, 2 usage errors
     */
    public static int run(String[] args, PrintStream out, PrintStream err, Class<?> application) {
        return Cli.execute(new CommandLine(new TrainCli(out, application)), args, out, err,
                new Cli.Style("train", "trent train: ", 2, 1),
                ex -> ex instanceof TrainingFailed || ex instanceof IOException ? ex.getMessage() : null);
    }

    @Override
    public Integer call() throws Exception {
        if (enrollments < 1 || enrollments > MAX_ENROLLMENTS) {
            throw new CommandLine.ParameterException(new CommandLine(this),
                    "--enrollments must be between 1 and " + MAX_ENROLLMENTS);
        }
        if (concurrency < 1 || concurrency > 64) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--concurrency must be between 1 and 64");
        }
        long started = System.nanoTime();
        Path data = Files.createTempDirectory("trent-train-");
        SecureRandom random = new SecureRandom();
        // The admin key of the throwaway instance: random, never printed.
        String admin = Secrets.newSecret(Secrets.API_KEY_PREFIX, random);
        Load.Counts counts;
        try {
            SpringApplication app = new SpringApplication(application);
            app.setEnvironment(isolated());
            try (ConfigurableApplicationContext context = app.run(
                    "--spring.config.location=optional:classpath:/",
                    "--trent.data-dir=" + data,
                    "--server.address=127.0.0.1", "--server.port=0",
                    "--trent.tls.address=127.0.0.1", "--trent.tls.port=0",
                    "--trent.ca.signer=keystore",
                    "--trent.bootstrap-admin-token=" + admin,
                    "--spring.main.banner-mode=off")) {
                URI base = URI.create("http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port"));
                URI tls = URI.create("https://127.0.0.1:" + context.getBean(TlsServer.class).port());
                counts = new Load(base, tls, admin, context.getBean(JsonMapper.class)).run(enrollments, concurrency);
            }
        } catch (Exception e) {
            // The training's own failure is the one to report; a directory left behind is added to it.
            try {
                PrivateFiles.deleteTree(data);
            } catch (IOException left) {
                e.addSuppressed(left);
            }
            throw e;
        }
        PrivateFiles.deleteTree(data);
        out.println("trent train: " + enrollments + " enrollments (" + counts.est() + " over EST), "
                + counts.renewals() + " renewals, " + counts.ocsp() + " OCSP requests and CRL downloads in "
                + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s on a throwaway data directory ("
                + data + ", removed)");
        return 0;
    }

    /**
     * An environment without the process's environment variables and system properties: only the
     * jar's application.yml and the command line above configure the training run.
     */
    private static StandardEnvironment isolated() {
        StandardEnvironment environment = new StandardEnvironment();
        MutablePropertySources sources = environment.getPropertySources();
        sources.remove(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME);
        sources.remove(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);
        return environment;
    }

    /**
     * The requests of the training run, against one Trent: per four devices, one enrolls over
     * REST for its PEM chain (its certificate then looked up by OCSP and its CRL fetched, and every
     * second one renewed over mutual TLS with a new key), one for JSON, one for DER, and one over
     * EST ({@code simpleenroll}, HTTP Basic with the token, over TLS).
     */
    private static final class Load {

        record Counts(int est, int renewals, int ocsp) {
        }

        /** A device's key and the certificate chain it received. */
        private record Enrolled(KeyPair key, X509Certificate certificate, X509Certificate issuer) {
        }

        private final URI base;
        private final URI tls;
        private final String admin;
        private final JsonMapper json;
        private final HttpClient client;
        private X509Certificate root;
        private SSLContext trustingTrent;

        Load(URI base, URI tls, String admin, JsonMapper json) {
            this.base = base;
            this.tls = tls;
            this.admin = admin;
            this.json = json;
            this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .proxy(HttpClient.Builder.NO_PROXY).connectTimeout(Duration.ofSeconds(10)).build();
        }

        /** Never the admin key. */
        @Override
        public String toString() {
            return "Load[" + base + ", " + tls + "]";
        }

        Counts run(int enrollments, int concurrency) throws Exception {
            root = fetchRoot();
            trustingTrent = tls(root, null);
            List<String> tokens = tokens(enrollments);
            ExecutorService pool = Executors.newFixedThreadPool(concurrency);
            try {
                AtomicInteger overEst = new AtomicInteger();
                List<Future<Enrolled>> issued = new ArrayList<>();
                for (int i = 0; i < enrollments; i++) {
                    int n = i;
                    issued.add(pool.submit(() -> {
                        if (n % 4 != 3) {
                            return enroll(n, tokens.get(n));
                        }
                        est(n, tokens.get(n));
                        overEst.incrementAndGet();
                        return null;
                    }));
                }
                List<Future<?>> lookups = new ArrayList<>();
                List<Future<?>> renewals = new ArrayList<>();
                for (int i = 0; i < issued.size(); i++) {
                    Enrolled e = get(issued.get(i));
                    if (e != null) {
                        lookups.add(pool.submit(() -> {
                            ocsp(e.certificate(), e.issuer());
                            crl(e.certificate());
                            return null;
                        }));
                        if (i % 8 == 0) {
                            renewals.add(pool.submit(() -> {
                                renew(e);
                                return null;
                            }));
                        }
                    }
                }
                for (Future<?> f : lookups) {
                    get(f);
                }
                for (Future<?> f : renewals) {
                    get(f);
                }
                return new Counts(overEst.get(), renewals.size(), lookups.size());
            } finally {
                pool.shutdownNow();
            }
        }

        private static <T> T get(Future<T> f) throws Exception {
            try {
                return f.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception x ? x : e;
            }
        }

        /** Trent's root, as a relying party gets it ({@code GET /api/v1/ca/root}). */
        private X509Certificate fetchRoot() throws Exception {
            HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/api/v1/ca/root"))
                    .header("Accept", "application/x-pem-file").GET(), 200, "the root certificate");
            List<X509Certificate> roots = certificates(r.body());
            if (roots.size() != 1) {
                throw new TrainingFailed("GET /api/v1/ca/root gave " + roots.size() + " certificates");
            }
            return roots.get(0);
        }

        /** TLS trusting only Trent's root, presenting {@code client} when not null. */
        private static SSLContext tls(X509Certificate root, Enrolled client) throws Exception {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("root", root);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (client != null) {
                char[] none = new char[0];
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("device", client.key().getPrivate(), none,
                        new X509Certificate[] {client.certificate(), client.issuer()});
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, none);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return context;
        }

        /** One-time tokens for devices train-1...N, profile device (batch API, 10,000 per call). */
        private List<String> tokens(int count) throws IOException, InterruptedException {
            List<String> tokens = new ArrayList<>(count);
            for (int from = 1; from <= count; from += 10_000) {
                List<String> ids = new ArrayList<>();
                for (int i = from; i <= Math.min(count, from + 9_999); i++) {
                    ids.add("train-" + i);
                }
                HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/api/v1/enrollment-tokens/batch"))
                        .header("Authorization", "Bearer " + admin).header("Content-Type", "application/json")
                        .header("Accept", "text/csv")
                        .POST(HttpRequest.BodyPublishers.ofString(json.writeValueAsString(
                                Map.of("profile", "device", "deviceIds", ids)))), 201, "the token batch");
                r.body().lines().skip(1).map(l -> l.split(",")[1]).forEach(tokens::add);
            }
            if (tokens.size() != count) {
                throw new TrainingFailed("the token batch gave " + tokens.size() + " tokens, not " + count);
            }
            return tokens;
        }

        private static KeyPair newKey() throws GeneralSecurityException {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        }

        private static byte[] csr(String deviceId, KeyPair key) throws Exception {
            return new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + deviceId), key.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())).getEncoded();
        }

        /** @return the key and chain when the answer carries the chain, else null */
        private Enrolled enroll(int n, String token) throws Exception {
            KeyPair key = newKey();
            String accept = ACCEPTS.get(n % 4);
            HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("/api/v1/enroll"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/x-pem-file")
                    .header("Accept", accept).POST(HttpRequest.BodyPublishers.ofString(
                            Pem.encode("CERTIFICATE REQUEST", csr("train-" + (n + 1), key)))), 201, "an enrollment");
            if (!accept.equals("application/pem-certificate-chain")) {
                return null;
            }
            List<X509Certificate> chain = certificates(r.body());
            if (chain.size() < 2) {
                throw new TrainingFailed("an enrollment's chain had " + chain.size() + " certificates");
            }
            return new Enrolled(key, chain.get(0), chain.get(1));
        }

        /** EST simpleenroll (RFC 7030 4.2.1) over TLS: 200 with a certs-only PKCS#7. */
        private void est(int n, String token) throws Exception {
            String device = "train-" + (n + 1);
            byte[] body = Base64.getMimeEncoder().encode(csr(device, newKey()));
            HttpsURLConnection c = (HttpsURLConnection) tls.resolve("/.well-known/est/device/simpleenroll").toURL()
                    .openConnection(java.net.Proxy.NO_PROXY);
            c.setSSLSocketFactory(trustingTrent.getSocketFactory());
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "application/pkcs10");
            c.setRequestProperty("Content-Transfer-Encoding", "base64");
            c.setRequestProperty("Authorization", "Basic " + Base64.getEncoder().encodeToString(
                    (device + ":" + token).getBytes(StandardCharsets.UTF_8)));
            byte[] answer = exchange(c, body, 200, "an EST enrollment");
            if (answer.length == 0) {
                throw new TrainingFailed("an EST enrollment answered 200 without a body");
            }
        }

        /** {@code POST /api/v1/renew} over mutual TLS with the device's certificate, a new key. */
        private void renew(Enrolled device) throws Exception {
            HttpsURLConnection c = (HttpsURLConnection) tls.resolve("/api/v1/renew").toURL()
                    .openConnection(java.net.Proxy.NO_PROXY);
            c.setSSLSocketFactory(tls(root, device).getSocketFactory());
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setRequestProperty("Content-Type", "application/x-pem-file");
            c.setRequestProperty("Accept", "application/pem-certificate-chain");
            // REST renewal: the CA decides the content, as at enrollment; the CSR's subject does not matter.
            exchange(c, Pem.encode("CERTIFICATE REQUEST", csr("renewal", newKey())).getBytes(StandardCharsets.US_ASCII),
                    201, "a renewal");
        }

        private static byte[] exchange(HttpsURLConnection c, byte[] body, int expected, String what)
                throws IOException {
            c.setConnectTimeout((int) REQUEST_TIMEOUT.toMillis());
            c.setReadTimeout((int) REQUEST_TIMEOUT.toMillis());
            try {
                try (var out = c.getOutputStream()) {
                    out.write(body);
                }
                int status = c.getResponseCode();
                if (status != expected) {
                    var err = c.getErrorStream();
                    String text = err == null ? "" : new String(err.readAllBytes(), StandardCharsets.UTF_8);
                    throw new TrainingFailed(what + " answered HTTP " + status + ", not " + expected + ": "
                            + text.substring(0, Math.min(300, text.length())));
                }
                try (var in = c.getInputStream()) {
                    return in.readAllBytes();
                }
            } finally {
                c.disconnect();
            }
        }

        private static List<X509Certificate> certificates(String pem) throws Exception {
            java.security.cert.CertificateFactory cf = java.security.cert.CertificateFactory.getInstance("X.509");
            List<X509Certificate> out = new ArrayList<>();
            for (Pem.Block b : Pem.decodeAll(pem)) {
                out.add((X509Certificate) cf.generateCertificate(new java.io.ByteArrayInputStream(b.der())));
            }
            return out;
        }

        private void ocsp(X509Certificate leaf, X509Certificate issuer) throws Exception {
            byte[] request;
            try {
                request = new OCSPReqBuilder().addRequest(new CertificateID(new JcaDigestCalculatorProviderBuilder()
                        .build().get(CertificateID.HASH_SHA1), new JcaX509CertificateHolder(issuer),
                        leaf.getSerialNumber())).build().getEncoded();
            } catch (OperatorCreationException | GeneralSecurityException e) {
                throw new IllegalStateException("cannot build an OCSP request", e);
            }
            HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(base.resolve("/ocsp"))
                    .timeout(REQUEST_TIMEOUT).header("Content-Type", "application/ocsp-request")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(request)).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            if (r.statusCode() != 200 || new OCSPResp(r.body()).getStatus() != OCSPResp.SUCCESSFUL) {
                throw new TrainingFailed("an OCSP request answered HTTP " + r.statusCode());
            }
        }

        /** Downloads the CRL that the certificate's distribution point names, through Trent's own path. */
        private void crl(X509Certificate leaf) throws Exception {
            byte[] ext = leaf.getExtensionValue(Extension.cRLDistributionPoints.getId());
            if (ext == null) {
                throw new TrainingFailed("an enrolled device certificate names no CRL distribution point");
            }
            CRLDistPoint points = CRLDistPoint.getInstance(
                    org.bouncycastle.asn1.ASN1OctetString.getInstance(ext).getOctets());
            for (DistributionPoint p : points.getDistributionPoints()) {
                for (GeneralName name : org.bouncycastle.asn1.x509.GeneralNames.getInstance(
                        p.getDistributionPoint().getName()).getNames()) {
                    URI uri = URI.create(name.getName().toString());
                    HttpResponse<byte[]> r = client.send(HttpRequest.newBuilder(base.resolve(uri.getRawPath()))
                            .timeout(REQUEST_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
                    if (r.statusCode() != 200) {
                        throw new TrainingFailed("the CRL at " + uri.getRawPath() + " answered HTTP " + r.statusCode());
                    }
                }
            }
        }

        private HttpResponse<String> send(HttpRequest.Builder request, int expected, String what)
                throws IOException, InterruptedException {
            HttpResponse<String> r = client.send(request.timeout(REQUEST_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != expected) {
                String body = r.body();
                throw new TrainingFailed(what + " answered HTTP " + r.statusCode() + ", not " + expected + ": "
                        + body.substring(0, Math.min(300, body.length())));
            }
            return r;
        }
    }
}
