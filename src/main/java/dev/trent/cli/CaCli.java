package dev.trent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

import dev.trent.ca.CaCeremony;
import dev.trent.ca.Pkcs11Token;
import dev.trent.pki.Pem;
import dev.trent.pki.Providers;
import dev.trent.profile.KeyType;

/**
 * The offline key ceremony, run from the same jar without starting the service:
 *
 * <pre>
 * ca init   --out DIR [--key-algorithm EC_P256|EC_P384] [--organization O]
 *           [--root-validity-days N] [--intermediate-validity-days N]
 * ca csr    --out DIR [--key-algorithm ...] --subject "CN=...,O=..."
 * ca sign   --root-keystore root.p12 --root-password-file F --csr intermediate.csr --out intermediate.pem
 *           [--validity-days N]
 * ca import --keystore intermediate.p12 --password-file F --cert intermediate.pem --chain root.pem
 * ca list   --keystore intermediate.p12 [--password-file F]
 * </pre>
 *
 * With {@code --pkcs11-library} (and {@code --slot-index} or {@code --token-label},
 * {@code --pin-file} or {@code TRENT_CA_PKCS11_PIN}, {@code --key-label}) the intermediate's key
 * lives in a PKCS#11 token instead: {@code csr} generates it inside the token (sensitive, never
 * extractable), {@code import} stores the signed certificate and chain beside it, {@code list}
 * shows what the token holds, and {@code init} keeps only the root in a file.
 *
 * Keystore passwords come from {@code TRENT_CA_KEYSTORE_PASSWORD} or a file, never from the
 * command line; when neither is given, a random one is written owner-only next to the keystore.
 */
public final class CaCli {

    private static final Set<String> FLAGS = Set.of("--out", "--key-algorithm", "--organization",
            "--root-validity-days", "--intermediate-validity-days", "--subject", "--root-keystore",
            "--root-password-file", "--csr", "--validity-days", "--keystore", "--password-file", "--cert", "--chain",
            "--pkcs11-library", "--slot-index", "--token-label", "--pin-file", "--key-label", "--server",
            "--api-key-file", "--allow-new-root");

    private CaCli() {
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            // A missing command is an error: the usage goes where errors go.
            err.println("trent ca: a command is required");
            usage(err);
            return 2;
        }
        if (args[0].equals("--help") || args[0].equals("help")) {
            usage(out);
            return 0;
        }
        try {
            Map<String, String> opts = options(args);
            CaCeremony ceremony = new CaCeremony(new SecureRandom(), Clock.systemUTC());
            switch (args[0]) {
                case "init" -> init(opts, ceremony, out);
                case "csr" -> csr(opts, ceremony, out);
                case "sign" -> sign(opts, ceremony, out);
                case "import" -> importCert(opts, out);
                case "list" -> list(opts, out);
                case "rotate" -> rotate(opts, out);
                default -> throw new IllegalArgumentException("unknown command '" + args[0] + "'");
            }
            return 0;
        } catch (NoSuchFileException e) {
            // Its message is only the path; say what is wrong with it.
            err.println("trent ca: no such file: " + e.getFile());
            return 1;
        } catch (IllegalArgumentException | IllegalStateException | IOException e) {
            err.println("trent ca: " + e.getMessage());
            return 1;
        }
    }

    private static void usage(PrintStream out) {
        out.println("""
                usage: java -jar trent.jar ca <command> [options]
                  init    create a root and an intermediate (for a server that holds only the intermediate)
                          --out DIR [--key-algorithm EC_P256|EC_P384] [--organization O]
                          [--root-validity-days N] [--intermediate-validity-days N]
                  csr     create an intermediate key and a CSR for an external (offline) root
                          --out DIR --subject "CN=...,O=..." [--key-algorithm EC_P256|EC_P384]
                  sign    sign an intermediate CSR with a root made by 'init'
                          --root-keystore root.p12 --root-password-file F --csr FILE --out FILE [--validity-days N]
                  import  put the signed intermediate certificate and its chain into the keystore from 'csr'
                          --keystore intermediate.p12 --password-file F --cert FILE --chain FILE
                  list    show the CA keys and certificates a keystore or token holds
                          --keystore FILE [--password-file F]
                  rotate  make another key in the server's keystore or token the active issuer
                          --server URL --key-label K [--allow-new-root true] (ADMIN key: TRENT_API_KEY
                          or --api-key-file F)
                Rotation: 'csr --keystore FILE --key-label K --subject ... --out DIR' adds the next
                issuer's key beside the current one (or csr with a token and a new --key-label);
                'sign' it; 'import --keystore FILE --key-label K ...'; then 'rotate'.
                Passwords: TRENT_CA_KEYSTORE_PASSWORD or a password file; otherwise generated and
                written owner-only beside the keystore (NAME.p12.pass).
                HSM: instead of --keystore, name a PKCS#11 token (init, csr, import, list):
                          --pkcs11-library /usr/lib/softhsm/libsofthsm2.so (--slot-index N | --token-label L)
                          [--pin-file F] [--key-label trent-ca]
                  The PIN comes from --pin-file or TRENT_CA_PKCS11_PIN. csr and init generate the
                  intermediate key inside the token; it never leaves it.""");
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String flag = args[i];
            if (!FLAGS.contains(flag)) {
                throw new IllegalArgumentException("unknown option '" + flag + "' (see 'ca help')");
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            opts.put(flag, args[++i]);
        }
        return opts;
    }

    private static String required(Map<String, String> opts, String flag) {
        String v = opts.get(flag);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(flag + " is required");
        }
        return v;
    }

    private static KeyType keyType(Map<String, String> opts) {
        String v = opts.getOrDefault("--key-algorithm", "EC_P256");
        try {
            KeyType t = KeyType.valueOf(v);
            if (t == KeyType.EC_P256 || t == KeyType.EC_P384) {
                return t;
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw new IllegalArgumentException("--key-algorithm must be EC_P256 or EC_P384");
    }

    private static Duration days(Map<String, String> opts, String flag, int dflt) {
        try {
            int n = Integer.parseInt(opts.getOrDefault(flag, Integer.toString(dflt)));
            if (n < 1) {
                throw new NumberFormatException();
            }
            return Duration.ofDays(n);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a positive number of days");
        }
    }

    /** The password for a new keystore: from the environment, or generated and saved beside it. */
    private static char[] newKeystorePassword(Path keystore, CaCeremony ceremony) throws IOException {
        String env = System.getenv("TRENT_CA_KEYSTORE_PASSWORD");
        if (env != null && !env.isEmpty()) {
            return env.toCharArray();
        }
        String generated = ceremony.newPassword();
        CaCeremony.writePrivateFile(passwordFileFor(keystore), generated.getBytes(StandardCharsets.UTF_8));
        return generated.toCharArray();
    }

    private static Path passwordFileFor(Path keystore) {
        return keystore.resolveSibling(keystore.getFileName() + ".pass");
    }

    private static char[] existingPassword(String passwordFile) throws IOException {
        if (passwordFile != null) {
            return Files.readString(Path.of(passwordFile), StandardCharsets.UTF_8).strip().toCharArray();
        }
        String env = System.getenv("TRENT_CA_KEYSTORE_PASSWORD");
        if (env != null && !env.isEmpty()) {
            return env.toCharArray();
        }
        throw new IllegalArgumentException("give the keystore password in a file (--password-file) or in "
                + "TRENT_CA_KEYSTORE_PASSWORD");
    }

    private static void refuseOverwrite(Path... files) {
        for (Path f : files) {
            if (Files.exists(f)) {
                throw new IllegalArgumentException(f + " exists; refusing to overwrite CA material");
            }
        }
    }

    private static void init(Map<String, String> opts, CaCeremony ceremony, PrintStream out) throws IOException {
        if (opts.containsKey("--pkcs11-library")) {
            initInToken(opts, ceremony, out);
            return;
        }
        Path dir = Path.of(required(opts, "--out"));
        Path rootKs = dir.resolve("root.p12");
        Path intKs = dir.resolve("intermediate.p12");
        refuseOverwrite(rootKs, intKs, passwordFileFor(rootKs), passwordFileFor(intKs), dir.resolve("root.pem"),
                dir.resolve("chain.pem"));
        CaCeremony.Hierarchy h = ceremony.createHierarchy(keyType(opts), opts.getOrDefault("--organization", "Trent"),
                days(opts, "--root-validity-days", 7300), days(opts, "--intermediate-validity-days", 3650));
        CaCeremony.createPrivateDirectory(dir);
        CaCeremony.writeKeystore(rootKs, h.root(), newKeystorePassword(rootKs, ceremony));
        CaCeremony.writeKeystore(intKs, h.intermediate(), newKeystorePassword(intKs, ceremony));
        CaCeremony.writeCertificates(dir.resolve("root.pem"), h.root().chain());
        CaCeremony.writeCertificates(dir.resolve("chain.pem"), h.intermediate().chain());
        out.println("root:         " + h.root().certificate().getSubjectX500Principal() + " -> " + rootKs);
        out.println("intermediate: " + h.intermediate().certificate().getSubjectX500Principal() + " -> " + intKs);
        out.println("Give the server only intermediate.p12 (trent.ca.keystore.path) and its password;");
        out.println("keep root.p12 offline.");
    }

    private static void csr(Map<String, String> opts, CaCeremony ceremony, PrintStream out) throws IOException {
        if (opts.containsKey("--pkcs11-library")) {
            csrInToken(opts, ceremony, out);
            return;
        }
        if (opts.containsKey("--keystore")) {
            csrInKeystore(opts, ceremony, out);
            return;
        }
        Path dir = Path.of(required(opts, "--out"));
        X500Name subject = subject(required(opts, "--subject"));
        Path ks = dir.resolve("intermediate.p12");
        Path csrFile = dir.resolve("intermediate.csr");
        refuseOverwrite(ks, csrFile, passwordFileFor(ks));
        KeyPair keys = ceremony.generateKeyPair(keyType(opts));
        PKCS10CertificationRequest csr = ceremony.createCsr(keys, subject);
        CaCeremony.createPrivateDirectory(dir);
        CaCeremony.writeKeystore(ks, new CaCeremony.KeyAndChain(keys.getPrivate(),
                List.of(ceremony.placeholder(keys, subject))), newKeystorePassword(ks, ceremony));
        CaCeremony.writePublicFile(csrFile, Pem.encode("CERTIFICATE REQUEST", csr.getEncoded()));
        out.println("key:  " + ks + " (with a placeholder certificate until 'ca import')");
        out.println("CSR:  " + csrFile + " -> have the offline root sign it as a CA certificate (pathLen 0)");
    }

    /**
     * Reads {@code --subject} as an RFC 4514 string, where the most specific RDN comes first:
     * "CN=Fleet CA,O=Acme" is encoded as the sequence O, then CN, as {@code init} names its CAs
     * and as Java, LDAP and {@code openssl -nameopt RFC2253} read it back. Bouncy Castle's
     * {@code X500Name(String)} keeps the written order, so its RDNs are reversed here.
     *
     * @see <a href="https://www.rfc-editor.org/rfc/rfc4514#section-2.1">RFC 4514, 2.1</a>
     */
    static X500Name subject(String text) {
        RDN[] rdns;
        try {
            rdns = new X500Name(BCStyle.INSTANCE, text).getRDNs();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--subject must be a distinguished name such as "
                    + "\"CN=Fleet Issuing CA,O=Acme\" (" + e.getMessage() + ")", e);
        }
        if (rdns.length == 0) {
            throw new IllegalArgumentException(
                    "--subject must name at least a CN, e.g. \"CN=Fleet Issuing CA,O=Acme\"");
        }
        RDN[] encodingOrder = new RDN[rdns.length];
        for (int i = 0; i < rdns.length; i++) {
            encodingOrder[i] = rdns[rdns.length - 1 - i];
        }
        return new X500Name(BCStyle.INSTANCE, encodingOrder);
    }

    private static void sign(Map<String, String> opts, CaCeremony ceremony, PrintStream out) throws IOException {
        CaCeremony.KeyAndChain root = CaCeremony.readKeystore(Path.of(required(opts, "--root-keystore")),
                existingPassword(opts.get("--root-password-file")), null);
        Path outFile = Path.of(required(opts, "--out"));
        refuseOverwrite(outFile);
        PKCS10CertificationRequest csr;
        PublicKey key;
        try {
            List<Pem.Block> blocks = Pem.decodeAll(Files.readString(Path.of(required(opts, "--csr")),
                    StandardCharsets.US_ASCII));
            if (blocks.size() != 1) {
                throw new IllegalArgumentException("the CSR file must hold one PEM block");
            }
            csr = new PKCS10CertificationRequest(blocks.get(0).der());
            if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().setProvider(Providers.BC)
                    .build(csr.getSubjectPublicKeyInfo()))) {
                throw new IllegalArgumentException("the CSR's signature does not verify");
            }
            key = new JcaPEMKeyConverter().setProvider(Providers.BC).getPublicKey(csr.getSubjectPublicKeyInfo());
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot read the CSR: " + e.getMessage(), e);
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot verify the CSR: " + e.getMessage(), e);
        }
        X509Certificate cert = ceremony.signIntermediate(root, csr.getSubject(), key,
                days(opts, "--validity-days", 3650));
        CaCeremony.writeCertificates(outFile, List.of(cert));
        out.println("signed: " + cert.getSubjectX500Principal() + " -> " + outFile);
    }

    private static void importCert(Map<String, String> opts, PrintStream out) throws IOException {
        if (opts.containsKey("--pkcs11-library")) {
            importIntoToken(opts, out);
            return;
        }
        Path ks = Path.of(required(opts, "--keystore"));
        String passwordFile = opts.get("--password-file");
        if (passwordFile == null && Files.exists(passwordFileFor(ks))) {
            passwordFile = passwordFileFor(ks).toString();
        }
        char[] password = existingPassword(passwordFile);
        String label = opts.get("--key-label");
        CaCeremony.KeyAndChain entry = CaCeremony.readKeystore(ks, password, label);
        List<X509Certificate> chain = certAndChain(opts);
        List<X509Certificate> certs = chain.subList(0, 1);
        CaCeremony.KeyAndChain updated = new CaCeremony.KeyAndChain(entry.privateKey(), chain);
        CaCeremony.validateIssuer(updated);
        if (label != null) {
            CaCeremony.putKeyEntry(ks, password, label, updated, true);
        } else {
            CaCeremony.writeKeystore(ks, updated, password);
        }
        out.println("imported: " + certs.get(0).getSubjectX500Principal() + " with a chain of " + chain.size()
                + " into " + ks);
    }

    /** {@code --cert} (exactly one certificate) followed by {@code --chain} up to the root. */
    private static List<X509Certificate> certAndChain(Map<String, String> opts) throws IOException {
        List<X509Certificate> certs = CaCeremony.readCertificates(Path.of(required(opts, "--cert")));
        if (certs.size() != 1) {
            throw new IllegalArgumentException("--cert must hold exactly the intermediate certificate");
        }
        List<X509Certificate> chain = new ArrayList<>(certs);
        for (X509Certificate c : CaCeremony.readCertificates(Path.of(required(opts, "--chain")))) {
            if (!c.equals(certs.get(0))) {
                chain.add(c);
            }
        }
        return chain;
    }

    // ---- PKCS#11 ------------------------------------------------------------------------

    private static Pkcs11Token token(Map<String, String> opts) {
        Integer slotIndex = null;
        if (opts.containsKey("--slot-index")) {
            try {
                slotIndex = Integer.parseInt(opts.get("--slot-index"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--slot-index must be a number");
            }
        }
        if (slotIndex != null && opts.containsKey("--token-label")) {
            throw new IllegalArgumentException("give --slot-index or --token-label, not both");
        }
        String pinFile = opts.get("--pin-file");
        java.util.function.Supplier<char[]> pin = Pkcs11Token.pinSource(pinFile == null ? null : Path.of(pinFile),
                System.getenv("TRENT_CA_PKCS11_PIN"));
        return new Pkcs11Token(Path.of(required(opts, "--pkcs11-library")), slotIndex, opts.get("--token-label"), pin);
    }

    private static String keyLabel(Map<String, String> opts) {
        return opts.getOrDefault("--key-label", CaCeremony.ALIAS);
    }

    /** Generates the key in the token under the key label, with a placeholder certificate. */
    private static KeyPair generateInToken(Pkcs11Token.Session session, String label, KeyType type, X500Name subject,
            CaCeremony ceremony) {
        try {
            if (session.keyStore().containsAlias(label)) {
                throw new IllegalArgumentException("the token already holds '" + label + "'; refusing to replace CA "
                        + "material (choose another --key-label)");
            }
            KeyPair keys = ceremony.generateKeyPair(type, session.provider());
            X509Certificate placeholder = ceremony.placeholder(keys, subject, session.provider());
            session.keyStore().setKeyEntry(label, keys.getPrivate(), null,
                    new java.security.cert.Certificate[] {placeholder});
            return keys;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot store the new key in the token: " + Pkcs11Token.cause(e), e);
        }
    }

    private static void csrInToken(Map<String, String> opts, CaCeremony ceremony, PrintStream out) throws IOException {
        Path dir = Path.of(required(opts, "--out"));
        X500Name subject = subject(required(opts, "--subject"));
        Path csrFile = dir.resolve("intermediate.csr");
        refuseOverwrite(csrFile);
        Pkcs11Token token = token(opts);
        String label = keyLabel(opts);
        Pkcs11Token.Session session = token.open();
        KeyPair keys = generateInToken(session, label, keyType(opts), subject, ceremony);
        PKCS10CertificationRequest csr = ceremony.createCsr(keys, subject, session.provider());
        Files.createDirectories(dir);
        CaCeremony.writePublicFile(csrFile, Pem.encode("CERTIFICATE REQUEST", csr.getEncoded()));
        out.println("key:  '" + label + "' generated in " + token.describe() + " (sensitive, not extractable; a "
                + "placeholder certificate until 'ca import')");
        out.println("CSR:  " + csrFile + " -> have the offline root sign it as a CA certificate (pathLen 0)");
    }

    private static void importIntoToken(Map<String, String> opts, PrintStream out) throws IOException {
        List<X509Certificate> chain = certAndChain(opts);
        CaCeremony.validateIssuerChain(chain);
        Pkcs11Token token = token(opts);
        String label = keyLabel(opts);
        Pkcs11Token.Session session = token.open();
        try {
            java.security.Key key = session.keyStore().getKey(label, null);
            if (!(key instanceof java.security.PrivateKey privateKey)) {
                throw new IllegalArgumentException("no private key labelled '" + label + "' in " + token.describe()
                        + " (keys: " + Pkcs11Token.keyAliases(session.keyStore()) + ")");
            }
            // Checks that the certificate is this key's before anything is stored.
            dev.trent.ca.Pkcs11CaSigner.connect(token, label, chain, Clock.systemUTC(), Duration.ZERO);
            session.keyStore().setKeyEntry(label, privateKey, null, chain.toArray(new java.security.cert.Certificate[0]));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot store the chain in the token: " + Pkcs11Token.cause(e), e);
        }
        out.println("imported: " + chain.get(0).getSubjectX500Principal() + " with a chain of " + chain.size()
                + " as '" + label + "' into " + token.describe());
    }

    /** Root in a file (dev convenience: move it offline), intermediate key generated in the token. */
    private static void initInToken(Map<String, String> opts, CaCeremony ceremony, PrintStream out) throws IOException {
        Path dir = Path.of(required(opts, "--out"));
        Path rootKs = dir.resolve("root.p12");
        refuseOverwrite(rootKs, passwordFileFor(rootKs), dir.resolve("root.pem"), dir.resolve("chain.pem"));
        KeyType type = keyType(opts);
        String organization = opts.getOrDefault("--organization", "Trent");
        String tag = String.format("%08x", new SecureRandom().nextInt());
        CaCeremony.KeyAndChain root = ceremony.createRoot(type, CaCeremony.name(organization, organization
                + " Root CA " + tag), days(opts, "--root-validity-days", 7300));
        Pkcs11Token token = token(opts);
        String label = keyLabel(opts);
        Pkcs11Token.Session session = token.open();
        X500Name subject = CaCeremony.name(organization, organization + " Intermediate CA " + tag);
        KeyPair keys = generateInToken(session, label, type, subject, ceremony);
        X509Certificate intermediate = ceremony.signIntermediate(root, subject, keys.getPublic(),
                days(opts, "--intermediate-validity-days", 3650));
        List<X509Certificate> chain = List.of(intermediate, root.certificate());
        try {
            session.keyStore().setKeyEntry(label, keys.getPrivate(), null,
                    chain.toArray(new java.security.cert.Certificate[0]));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot store the chain in the token: " + Pkcs11Token.cause(e), e);
        }
        CaCeremony.createPrivateDirectory(dir);
        CaCeremony.writeKeystore(rootKs, root, newKeystorePassword(rootKs, ceremony));
        CaCeremony.writeCertificates(dir.resolve("root.pem"), root.chain());
        CaCeremony.writeCertificates(dir.resolve("chain.pem"), chain);
        out.println("root:         " + root.certificate().getSubjectX500Principal() + " -> " + rootKs);
        out.println("intermediate: " + intermediate.getSubjectX500Principal() + " -> '" + label + "' in "
                + token.describe());
        out.println("Keep root.p12 offline; configure trent.ca.signer=pkcs11 with the same token and key label.");
    }

    private static void list(Map<String, String> opts, PrintStream out) throws IOException {
        java.security.KeyStore ks;
        String where;
        if (opts.containsKey("--pkcs11-library")) {
            Pkcs11Token token = token(opts);
            ks = token.open().keyStore();
            where = token.describe();
        } else {
            Path file = Path.of(required(opts, "--keystore"));
            String passwordFile = opts.get("--password-file");
            if (passwordFile == null && Files.exists(passwordFileFor(file))) {
                passwordFile = passwordFileFor(file).toString();
            }
            char[] password = existingPassword(passwordFile);
            try (java.io.InputStream in = Files.newInputStream(file)) {
                ks = java.security.KeyStore.getInstance("PKCS12");
                ks.load(in, password);
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
            }
            where = file.toString();
        }
        try {
            List<String> aliases = java.util.Collections.list(ks.aliases());
            java.util.Collections.sort(aliases);
            out.println(where + ": " + aliases.size() + " entr" + (aliases.size() == 1 ? "y" : "ies"));
            for (String alias : aliases) {
                java.security.cert.Certificate[] chain = ks.getCertificateChain(alias);
                if (chain == null && ks.getCertificate(alias) != null) {
                    chain = new java.security.cert.Certificate[] {ks.getCertificate(alias)};
                }
                String kind = ks.isKeyEntry(alias) ? "key" : "certificate";
                out.println("  '" + alias + "' (" + kind + ")");
                if (chain != null) {
                    for (java.security.cert.Certificate c : chain) {
                        X509Certificate x = (X509Certificate) c;
                        out.println("      " + x.getSubjectX500Principal() + "  until " + x.getNotAfter().toInstant()
                                + (x.getBasicConstraints() >= 0 ? "  CA" : "  (not a CA: a placeholder?)"));
                    }
                }
            }
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot list " + where + ": " + Pkcs11Token.cause(e), e);
        }
    }

    /** A new key entry in an existing keystore (the next issuer's key, beside the current one). */
    private static void csrInKeystore(Map<String, String> opts, CaCeremony ceremony, PrintStream out) throws IOException {
        Path ks = Path.of(required(opts, "--keystore"));
        String label = required(opts, "--key-label");
        X500Name subject = subject(required(opts, "--subject"));
        Path csrFile = Path.of(required(opts, "--out")).resolve("intermediate.csr");
        refuseOverwrite(csrFile);
        String passwordFile = opts.get("--password-file");
        if (passwordFile == null && Files.exists(passwordFileFor(ks))) {
            passwordFile = passwordFileFor(ks).toString();
        }
        char[] password = existingPassword(passwordFile);
        KeyPair keys = ceremony.generateKeyPair(keyType(opts));
        CaCeremony.putKeyEntry(ks, password, label, new CaCeremony.KeyAndChain(keys.getPrivate(),
                List.of(ceremony.placeholder(keys, subject))), false);
        PKCS10CertificationRequest csr = ceremony.createCsr(keys, subject);
        Files.createDirectories(csrFile.getParent());
        CaCeremony.writePublicFile(csrFile, Pem.encode("CERTIFICATE REQUEST", csr.getEncoded()));
        out.println("key:  '" + label + "' added to " + ks + " (with a placeholder certificate until 'ca import')");
        out.println("CSR:  " + csrFile + " -> have the offline root sign it as a CA certificate (pathLen 0)");
    }

    /**
     * Asks a running Trent to make the key with this label (in its configured keystore or token)
     * the active issuer: {@code POST /api/v1/issuers/rotate} with an ADMIN key from
     * {@code TRENT_API_KEY} or {@code --api-key-file}.
     */
    private static void rotate(Map<String, String> opts, PrintStream out) throws IOException {
        String server = required(opts, "--server").replaceAll("/+$", "");
        String label = required(opts, "--key-label");
        String apiKey;
        if (opts.containsKey("--api-key-file")) {
            apiKey = Files.readString(Path.of(opts.get("--api-key-file")), StandardCharsets.UTF_8).strip();
        } else {
            apiKey = System.getenv("TRENT_API_KEY");
            if (apiKey == null || apiKey.isBlank()) {
                throw new IllegalArgumentException("give an ADMIN API key in TRENT_API_KEY or --api-key-file");
            }
        }
        boolean allowNewRoot = Boolean.parseBoolean(opts.getOrDefault("--allow-new-root", "false"));
        String body = "{\"keyLabel\":" + jsonString(label) + ",\"allowNewRoot\":" + allowNewRoot + "}";
        java.net.http.HttpRequest request = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create(server + "/api/v1/issuers/rotate"))
                .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                .header("Accept", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body)).build();
        java.net.http.HttpResponse<String> response;
        try {
            response = java.net.http.HttpClient.newHttpClient().send(request,
                    java.net.http.HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (response.statusCode() != 200) {
            throw new IllegalStateException("rotation refused (HTTP " + response.statusCode() + "): " + response.body());
        }
        out.println(response.body());
    }

    private static String jsonString(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
