import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Single-threaded ECDSA P-256 (SHA256withECDSA) signature and verification rates of Bouncy
 * Castle against the JDK's SunEC and, when its jar is on the class path, the Amazon Corretto
 * Crypto Provider (native, what Trent uses where it loads), in one run. A single-file source
 * program (JDK 17) that needs bcprov on the class path (and ACCP's jar for the native figures):
 *
 * <pre>
 * java -cp ~/.m2/repository/org/bouncycastle/bcprov-jdk18on/1.86/bcprov-jdk18on-1.86.jar:\
 *     ~/.m2/repository/software/amazon/cryptools/AmazonCorrettoCryptoProvider/2.5.0/AmazonCorrettoCryptoProvider-2.5.0-linux-x86_64.jar \
 *     bench/SignRate.java [rounds=7] [millisPerMeasurement=1000]
 * </pre>
 *
 * Bouncy Castle is instantiated and passed explicitly, never registered globally, as in
 * {@code dev.trent.pki.Providers}. Each round measures every case once, in rotating order, after
 * one unmeasured warm-up round; the report gives the median over rounds and the median of the
 * per-round BC/SunEC ratios (the ratio is the robust figure on a shared, noisy machine).
 *
 * <p>Cases: "reused" keeps one initialised {@link Signature} (the raw math); "per op" does what
 * Trent does per certificate / per CSR: {@code Signature.getInstance} and {@code initSign} for
 * every signature (KeystoreCaSigner builds a new ContentSigner per certificate), and for every
 * verification decodes the public key from its SubjectPublicKeyInfo and initialises a new
 * verifier (CsrDecoder). "BC sign per op, JDK key" passes Bouncy Castle the private key object
 * as the JDK's PKCS#12 keystore returns it (a SunEC key), which is what KeystoreCaSigner does.
 */
public final class SignRate {

    private static final String ALG = "SHA256withECDSA";

    interface Op {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        long millis = args.length > 1 ? Long.parseLong(args[1]) : 1000;
        Provider bc = (Provider) Class.forName("org.bouncycastle.jce.provider.BouncyCastleProvider")
                .getDeclaredConstructor().newInstance();
        Provider sun = Signature.getInstance(ALG).getProvider();
        if (!sun.getName().equals("SunEC")) {
            sun = java.security.Security.getProvider("SunEC");
        }

        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", "SunEC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        // About the size of a device certificate's TBSCertificate.
        byte[] message = "x".repeat(420).getBytes(StandardCharsets.US_ASCII);
        byte[] spki = kp.getPublic().getEncoded();

        // The native provider Trent prefers where it loads (pki/Providers), when its jar is on the
        // class path too.
        Provider accp = null;
        try {
            accp = (Provider) Class.forName("com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider")
                    .getField("INSTANCE").get(null);
            if (accp.getClass().getMethod("getLoadingError").invoke(accp) != null) {
                accp = null;
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            accp = null;
        }
        List<Provider> providers = new ArrayList<>(List.of(bc, sun));
        if (accp != null) {
            providers.add(accp);
        }
        Map<String, Op> cases = new LinkedHashMap<>();
        for (Provider p : providers) {
            String n = p.getName().equals("BC") ? "BC" : p.getName().equals("SunEC") ? "SunEC" : "ACCP";
            PrivateKey priv = KeyFactory.getInstance("EC", p).generatePrivate(
                    new java.security.spec.PKCS8EncodedKeySpec(kp.getPrivate().getEncoded()));
            PublicKey pub = KeyFactory.getInstance("EC", p).generatePublic(new X509EncodedKeySpec(spki));
            Signature signer = Signature.getInstance(ALG, p);
            signer.initSign(priv);
            Signature s0 = Signature.getInstance(ALG, p);
            s0.initSign(priv);
            s0.update(message);
            byte[] sig = s0.sign();
            Signature verifier = Signature.getInstance(ALG, p);
            verifier.initVerify(pub);
            final Provider prov = p;
            cases.put(n + " sign reused", () -> {
                signer.update(message);
                signer.sign();
            });
            cases.put(n + " sign per op", () -> {
                Signature s = Signature.getInstance(ALG, prov);
                s.initSign(priv);
                s.update(message);
                s.sign();
            });
            if (n.equals("BC")) {
                // What Trent does today: the CA key comes from a PKCS#12 keystore read by the JDK, so it
                // is a SunEC key object that Bouncy Castle converts at every initSign.
                PrivateKey jdkKey = kp.getPrivate();
                cases.put("BC sign per op, JDK key", () -> {
                    Signature s = Signature.getInstance(ALG, prov);
                    s.initSign(jdkKey);
                    s.update(message);
                    s.sign();
                });
            }
            cases.put(n + " verify reused", () -> {
                verifier.update(message);
                if (!verifier.verify(sig)) {
                    throw new IllegalStateException("bad signature");
                }
            });
            cases.put(n + " verify per op", () -> {
                PublicKey k = KeyFactory.getInstance("EC", prov).generatePublic(new X509EncodedKeySpec(spki));
                Signature v = Signature.getInstance(ALG, prov);
                v.initVerify(k);
                v.update(message);
                if (!v.verify(sig)) {
                    throw new IllegalStateException("bad signature");
                }
            });
        }

        List<String> names = new ArrayList<>(cases.keySet());
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        names.forEach(n -> rates.put(n, new ArrayList<>()));
        System.out.printf(Locale.ROOT, "ECDSA P-256 %s, one thread, %s %s, %d rounds x %d ms per case, BC %s%n",
                ALG, System.getProperty("java.vm.name"), System.getProperty("java.version"), rounds, millis,
                bc.getVersionStr());
        for (int r = -1; r < rounds; r++) {
            StringBuilder line = new StringBuilder(r < 0 ? "warm-up " : String.format(Locale.ROOT, "round %d ", r + 1));
            for (int k = 0; k < names.size(); k++) {
                // Rotate the order so that no case always runs first (or last) in a round.
                String n = names.get((k + Math.max(r, 0)) % names.size());
                double rate = measure(cases.get(n), millis);
                if (r >= 0) {
                    rates.get(n).add(rate);
                }
            }
            if (r >= 0) {
                for (String n : names) {
                    List<Double> l = rates.get(n);
                    line.append(String.format(Locale.ROOT, " %s=%.0f", n.replace(' ', '_'), l.get(l.size() - 1)));
                }
            }
            System.out.println(line);
        }

        System.out.printf(Locale.ROOT, "%n%-24s %12s %12s %12s%n", "case", "median/s", "min/s", "max/s");
        for (String n : names) {
            double[] v = rates.get(n).stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf(Locale.ROOT, "%-24s %12.0f %12.0f %12.0f%n", n, median(v), v[0], v[v.length - 1]);
        }
        System.out.println();
        for (String what : List.of("sign reused", "sign per op", "verify reused", "verify per op")) {
            double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratios[r] = rates.get("BC " + what).get(r) / rates.get("SunEC " + what).get(r);
            }
            Arrays.sort(ratios);
            System.out.printf(Locale.ROOT, "BC / SunEC %-14s median ratio %.2f (per-round range %.2f-%.2f)%n", what,
                    median(ratios), ratios[0], ratios[rounds - 1]);
        }
        if (accp != null) {
            for (String what : List.of("sign per op", "verify per op")) {
                double[] ratios = new double[rounds];
                for (int r = 0; r < rounds; r++) {
                    ratios[r] = rates.get("ACCP " + what).get(r) / rates.get("BC " + what).get(r);
                }
                Arrays.sort(ratios);
                System.out.printf(Locale.ROOT, "ACCP / BC  %-14s median ratio %.2f (per-round range %.2f-%.2f)%n", what,
                        median(ratios), ratios[0], ratios[rounds - 1]);
            }
        }
    }

    static double measure(Op op, long millis) throws Exception {
        for (int i = 0; i < 50; i++) {
            op.run();
        }
        long end = System.nanoTime() + millis * 1_000_000L;
        long start = System.nanoTime();
        long n = 0;
        long now;
        do {
            for (int i = 0; i < 20; i++) {
                op.run();
            }
            n += 20;
            now = System.nanoTime();
        } while (now < end);
        return n / ((now - start) / 1e9);
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
