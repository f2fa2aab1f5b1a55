package dev.trent.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

import dev.trent.ca.CaCeremony;
import dev.trent.ca.Pkcs11CaSigner;
import dev.trent.ca.Pkcs11Token;
import dev.trent.pki.Pem;
import dev.trent.pki.Providers;
import dev.trent.profile.KeyType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The offline key ceremony, run from the same jar without starting the service
 * ({@code java -jar trent.jar ca help [command]} prints what follows, option by option):
 *
 * <pre>
 * ca init   --out DIR [--key-algorithm EC_P256|EC_P384] [--organization O]
 *           [--root-validity-days N] [--intermediate-validity-days N]
 * ca csr    --out DIR [--key-algorithm ...] --subject "CN=...,O=..."
 * ca sign   --root-keystore root.p12 --root-password-file F --csr intermediate.csr --out intermediate.pem
 *           [--validity-days N]
 * ca import --keystore intermediate.p12 --password-file F --cert intermediate.pem --chain root.pem
 * ca list   --keystore intermediate.p12 [--password-file F]
 * ca rotate --server URL --key-label K [--allow-new-root true] [--api-key-file F]
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
 *
 * <p>Arguments are parsed by picocli; its errors are reworded here into the CLI's own short
 * messages ({@code trent ca: --out is required}). Exit codes: 0 done (or help), 1 refused or
 * failed, 2 no command.
 */
@Command(name = "java -jar trent.jar ca", synopsisHeading = "usage: ",
        customSynopsis = "java -jar trent.jar ca <command> [options]   ('ca help <command>' shows its options)",
        commandListHeading = "%nCommands:%n", footerHeading = "%n",
        footer = {
            "Rotation: 'csr --keystore FILE --key-label K --subject ... --out DIR' adds the next issuer's",
            "key beside the current one (or csr with a token and a new --key-label); 'sign' it;",
            "'import --keystore FILE --key-label K ...'; then 'rotate'.",
            "Passwords: TRENT_CA_KEYSTORE_PASSWORD or a password file; otherwise generated and written",
            "owner-only beside the keystore (NAME.p12.pass).",
            "HSM: instead of --keystore, name a PKCS#11 token (init, csr, import, list):",
            "  --pkcs11-library /usr/lib/softhsm/libsofthsm2.so (--slot-index N | --token-label L)",
            "  [--pin-file F] [--key-label trent-ca]",
            "  The PIN comes from --pin-file or TRENT_CA_PKCS11_PIN. csr and init generate the",
            "  intermediate key inside the token; it never leaves it."},
        subcommands = {CaCli.Init.class, CaCli.Csr.class, CaCli.Sign.class, CaCli.Import.class, CaCli.ListKeys.class,
            CaCli.Rotate.class, HelpCommand.class})
public final class CaCli implements Callable<Integer> {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final PrintStream out;
    private final PrintStream err;
    // The CLI is its own composition root: its one clock and one CSPRNG, as Spring's beans are the service's.
    private final Clock clock = Clock.systemUTC();
    private final SecureRandom random = new SecureRandom();
    private final CaCeremony ceremony = new CaCeremony(random, clock);

    @Mixin
    private Help help;

    @Spec
    private CommandSpec spec;

    private CaCli(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /**
     * Runs one {@code ca} command line.
     *
     * @return the exit code: 0 done (or help printed), 1 refused or failed (the reason on
     *         {@code err}), 2 no command given
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new CaCli(out, err));
        return Cli.execute(cl, args, out, err, new Cli.Style("ca", "trent ca: ", 1, 1), ex -> {
            if (ex instanceof NoSuchFileException e) {
                // Its message is only the path; say what is wrong with it.
                return "no such file: " + e.getFile();
            }
            return ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                    || ex instanceof IOException ? ex.getMessage() : null;
        });
    }

    /** Without a command: the usage goes where errors go. */
    @Override
    public Integer call() {
        err.println("trent ca: a command is required");
        spec.commandLine().usage(err);
        return 2;
    }

    /** {@code -h}/{@code --help} on every command. */
    static final class Help {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help")
        boolean requested;
    }

    /**
     * The PKCS#11 token that holds (or will hold) the intermediate's key, instead of a keystore,
     * and the key's label (also its alias in a keystore): one set of options for every command
     * that works on a token, so a script can keep them in one variable.
     */
    static final class Token {
        @Option(names = "--pkcs11-library", paramLabel = "LIB", order = 100,
                description = "the PKCS#11 module (e.g. /usr/lib/softhsm/libsofthsm2.so): the intermediate's key "
                        + "lives in that token instead of a keystore")
        Path library;

        @Option(names = "--slot-index", paramLabel = "N", converter = Number.class, order = 101,
                description = "the token by its position among the slots that hold one (default 0)")
        Integer slotIndex;

        @Option(names = "--token-label", paramLabel = "L", order = 102, description = "the token by its label")
        String label;

        @Option(names = "--pin-file", paramLabel = "F", order = 103,
                description = "a file holding the token's PIN (otherwise TRENT_CA_PKCS11_PIN)")
        Path pinFile;

        @Option(names = "--key-label", paramLabel = "K", order = 104,
                description = "the key's label in the token (default " + CaCeremony.ALIAS + "), or its alias in "
                        + "--keystore (csr, import); list shows every entry")
        String keyLabel;

        boolean given() {
            return library != null;
        }

        Pkcs11Token open() {
            if (slotIndex != null && label != null) {
                throw new IllegalArgumentException("give --slot-index or --token-label, not both");
            }
            Supplier<char[]> pin = Pkcs11Token.pinSource(pinFile, System.getenv("TRENT_CA_PKCS11_PIN"));
            return new Pkcs11Token(library, slotIndex, label, pin);
        }
    }

    // ---- commands ---------------------------------------------------------------------------------

    @Command(name = "init",
            description = "create a root and an intermediate (for a server that holds only the intermediate)")
    static final class Init implements Callable<Integer> {
        @ParentCommand
        CaCli ca;
        @Mixin
        Help help;

        @Option(names = "--out", paramLabel = "DIR", required = true,
                description = "a new directory for root.p12, intermediate.p12, their .pass files, root.pem, chain.pem")
        Path out;

        @Option(names = "--key-algorithm", paramLabel = "EC_P256|EC_P384", defaultValue = "EC_P256",
                converter = CaKeyType.class, description = "the keys' type (default ${DEFAULT-VALUE})")
        KeyType keyType;

        @Option(names = "--organization", paramLabel = "O", defaultValue = "Trent",
                description = "O= of both CAs' names (default ${DEFAULT-VALUE})")
        String organization;

        @Option(names = "--root-validity-days", paramLabel = "N", defaultValue = "7300", converter = Days.class,
                description = "the root's lifetime (default ${DEFAULT-VALUE})")
        Duration rootValidity;

        @Option(names = "--intermediate-validity-days", paramLabel = "N", defaultValue = "3650",
                converter = Days.class, description = "the intermediate's lifetime (default ${DEFAULT-VALUE})")
        Duration intermediateValidity;

        @Mixin
        Token token;


        @Override
        public Integer call() throws IOException {
            if (token.given()) {
                initInToken();
                return 0;
            }
            Path dir = out;
            Path rootKs = dir.resolve("root.p12");
            Path intKs = dir.resolve("intermediate.p12");
            refuseOverwrite(rootKs, intKs, passwordFileFor(rootKs), passwordFileFor(intKs), dir.resolve("root.pem"),
                    dir.resolve("chain.pem"));
            CaCeremony.Hierarchy h = ca.ceremony.createHierarchy(keyType, organization, rootValidity,
                    intermediateValidity);
            dev.trent.pki.PrivateFiles.createPrivateDirectory(dir);
            CaCeremony.writeKeystore(rootKs, h.root(), ca.newKeystorePassword(rootKs));
            CaCeremony.writeKeystore(intKs, h.intermediate(), ca.newKeystorePassword(intKs));
            CaCeremony.writeCertificates(dir.resolve("root.pem"), h.root().chain());
            CaCeremony.writeCertificates(dir.resolve("chain.pem"), h.intermediate().chain());
            ca.out.println("root:         " + h.root().certificate().getSubjectX500Principal() + " -> " + rootKs);
            ca.out.println("intermediate: " + h.intermediate().certificate().getSubjectX500Principal() + " -> "
                    + intKs);
            ca.out.println("Give the server only intermediate.p12 (trent.ca.keystore.path) and its password;");
            ca.out.println("keep root.p12 offline.");
            return 0;
        }

        /** Root in a file (dev convenience: move it offline), intermediate key generated in the token. */
        private void initInToken() throws IOException {
            Path dir = out;
            Path rootKs = dir.resolve("root.p12");
            refuseOverwrite(rootKs, passwordFileFor(rootKs), dir.resolve("root.pem"), dir.resolve("chain.pem"));
            String tag = String.format("%08x", ca.random.nextInt());
            CaCeremony.KeyAndChain root = ca.ceremony.createRoot(keyType, CaCeremony.name(organization, organization
                    + " Root CA " + tag), rootValidity);
            Pkcs11Token pkcs11 = token.open();
            String label = keyLabel(token.keyLabel);
            Pkcs11Token.Session session = pkcs11.open();
            X500Name subject = CaCeremony.name(organization, organization + " Intermediate CA " + tag);
            KeyPair keys = generateInToken(session, label, keyType, subject, ca.ceremony);
            X509Certificate intermediate = ca.ceremony.signIntermediate(root, subject, keys.getPublic(),
                    intermediateValidity);
            List<X509Certificate> chain = List.of(intermediate, root.certificate());
            try {
                session.keyStore().setKeyEntry(label, keys.getPrivate(), null, chain.toArray(new Certificate[0]));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot store the chain in the token: " + Pkcs11Token.cause(e), e);
            }
            dev.trent.pki.PrivateFiles.createPrivateDirectory(dir);
            CaCeremony.writeKeystore(rootKs, root, ca.newKeystorePassword(rootKs));
            CaCeremony.writeCertificates(dir.resolve("root.pem"), root.chain());
            CaCeremony.writeCertificates(dir.resolve("chain.pem"), chain);
            ca.out.println("root:         " + root.certificate().getSubjectX500Principal() + " -> " + rootKs);
            ca.out.println("intermediate: " + intermediate.getSubjectX500Principal() + " -> '" + label + "' in "
                    + pkcs11.describe());
            ca.out.println("Keep root.p12 offline; configure trent.ca.signer=pkcs11 with the same token and key "
                    + "label.");
        }
    }

    @Command(name = "csr",
            description = "create an intermediate key and a CSR for an external (offline) root (with "
                    + "--keystore and --key-label: the next issuer's key beside the current one)")
    static final class Csr implements Callable<Integer> {
        @ParentCommand
        CaCli ca;
        @Mixin
        Help help;

        @Option(names = "--out", paramLabel = "DIR", required = true,
                description = "the directory for intermediate.csr (and intermediate.p12 without --keystore or a token)")
        Path out;

        @Option(names = "--subject", paramLabel = "DN", required = true,
                description = "the intermediate's name, RFC 4514: \"CN=Fleet Issuing CA,O=Acme\"")
        String subject;

        @Option(names = "--key-algorithm", paramLabel = "EC_P256|EC_P384", defaultValue = "EC_P256",
                converter = CaKeyType.class, description = "the key's type (default ${DEFAULT-VALUE})")
        KeyType keyType;

        @Option(names = "--keystore", paramLabel = "FILE",
                description = "an existing keystore to add the key to (with --key-label)")
        Path keystore;

        @Option(names = "--password-file", paramLabel = "F",
                description = "with --keystore: its password (otherwise FILE.pass or TRENT_CA_KEYSTORE_PASSWORD)")
        Path passwordFile;

        @Mixin
        Token token;


        @Override
        public Integer call() throws IOException {
            if (token.given()) {
                inToken();
            } else if (keystore != null) {
                inKeystore();
            } else {
                Path dir = out;
                X500Name name = subject(subject);
                Path ks = dir.resolve("intermediate.p12");
                Path csrFile = dir.resolve("intermediate.csr");
                refuseOverwrite(ks, csrFile, passwordFileFor(ks));
                KeyPair keys = ca.ceremony.generateKeyPair(keyType);
                PKCS10CertificationRequest csr = ca.ceremony.createCsr(keys, name);
                dev.trent.pki.PrivateFiles.createPrivateDirectory(dir);
                CaCeremony.writeKeystore(ks, new CaCeremony.KeyAndChain(keys.getPrivate(),
                        List.of(ca.ceremony.placeholder(keys, name))), ca.newKeystorePassword(ks));
                dev.trent.pki.PrivateFiles.writePublicFile(csrFile, Pem.encode("CERTIFICATE REQUEST", csr.getEncoded()));
                ca.out.println("key:  " + ks + " (with a placeholder certificate until 'ca import')");
                ca.out.println("CSR:  " + csrFile + " -> have the offline root sign it as a CA certificate "
                        + "(pathLen 0)");
            }
            return 0;
        }

        /** A new key entry in an existing keystore (the next issuer's key, beside the current one). */
        private void inKeystore() throws IOException {
            Path ks = keystore;
            String label = required(token.keyLabel, "--key-label");
            X500Name name = subject(subject);
            Path csrFile = out.resolve("intermediate.csr");
            refuseOverwrite(csrFile);
            char[] password = existingPassword(passwordFileOrBeside(passwordFile, ks));
            KeyPair keys = ca.ceremony.generateKeyPair(keyType);
            CaCeremony.putKeyEntry(ks, password, label, new CaCeremony.KeyAndChain(keys.getPrivate(),
                    List.of(ca.ceremony.placeholder(keys, name))), false);
            PKCS10CertificationRequest csr = ca.ceremony.createCsr(keys, name);
            Files.createDirectories(csrFile.getParent());
            dev.trent.pki.PrivateFiles.writePublicFile(csrFile, Pem.encode("CERTIFICATE REQUEST", csr.getEncoded()));
            ca.out.println("key:  '" + label + "' added to " + ks + " (with a placeholder certificate until "
                    + "'ca import')");
            ca.out.println("CSR:  " + csrFile + " -> have the offline root sign it as a CA certificate (pathLen 0)");
        }

        private void inToken() throws IOException {
            X500Name name = subject(subject);
            Path csrFile = out.resolve("intermediate.csr");
            refuseOverwrite(csrFile);
            Pkcs11Token pkcs11 = token.open();
            String label = keyLabel(token.keyLabel);
            Pkcs11Token.Session session = pkcs11.open();
            KeyPair keys = generateInToken(session, label, keyType, name, ca.ceremony);
            PKCS10CertificationRequest csr = ca.ceremony.createCsr(keys, name, session.provider());
            Files.createDirectories(out);
            dev.trent.pki.PrivateFiles.writePublicFile(csrFile, Pem.encode("CERTIFICATE REQUEST", csr.getEncoded()));
            ca.out.println("key:  '" + label + "' generated in " + pkcs11.describe() + " (sensitive, not "
                    + "extractable; a placeholder certificate until 'ca import')");
            ca.out.println("CSR:  " + csrFile + " -> have the offline root sign it as a CA certificate (pathLen 0)");
        }
    }

    @Command(name = "sign", description = "sign an intermediate CSR with a root made by 'init'")
    static final class Sign implements Callable<Integer> {
        @ParentCommand
        CaCli ca;
        @Mixin
        Help help;

        @Option(names = "--root-keystore", paramLabel = "root.p12", required = true, description = "the root")
        Path rootKeystore;

        @Option(names = "--root-password-file", paramLabel = "F",
                description = "the root keystore's password (otherwise TRENT_CA_KEYSTORE_PASSWORD)")
        Path rootPasswordFile;

        @Option(names = "--csr", paramLabel = "FILE", required = true, description = "the intermediate's CSR (PEM)")
        Path csrFile;

        @Option(names = "--out", paramLabel = "FILE", required = true,
                description = "where the signed intermediate certificate goes (PEM)")
        Path out;

        @Option(names = "--validity-days", paramLabel = "N", defaultValue = "3650", converter = Days.class,
                description = "the intermediate's lifetime (default ${DEFAULT-VALUE})")
        Duration validity;

        @Override
        public Integer call() throws IOException {
            CaCeremony.KeyAndChain root = CaCeremony.readKeystore(rootKeystore, existingPassword(rootPasswordFile),
                    null);
            refuseOverwrite(out);
            PKCS10CertificationRequest csr;
            PublicKey key;
            try {
                List<Pem.Block> blocks = Pem.decodeAll(Files.readString(csrFile, StandardCharsets.US_ASCII));
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
            X509Certificate cert = ca.ceremony.signIntermediate(root, csr.getSubject(), key, validity);
            CaCeremony.writeCertificates(out, List.of(cert));
            ca.out.println("signed: " + cert.getSubjectX500Principal() + " -> " + out);
            return 0;
        }
    }

    @Command(name = "import",
            description = "put the signed intermediate certificate and its chain into the keystore from 'csr'")
    static final class Import implements Callable<Integer> {
        @ParentCommand
        CaCli ca;
        @Mixin
        Help help;

        @Option(names = "--keystore", paramLabel = "FILE", description = "the keystore that holds the key")
        Path keystore;

        @Option(names = "--password-file", paramLabel = "F",
                description = "its password (otherwise FILE.pass or TRENT_CA_KEYSTORE_PASSWORD)")
        Path passwordFile;

        @Option(names = "--cert", paramLabel = "FILE", required = true,
                description = "the signed intermediate certificate (PEM, exactly one)")
        Path cert;

        @Option(names = "--chain", paramLabel = "FILE", required = true,
                description = "its chain up to the root (PEM)")
        Path chain;

        @Mixin
        Token token;


        @Override
        public Integer call() throws IOException {
            if (token.given()) {
                intoToken();
                return 0;
            }
            Path ks = Path.of(required(keystore, "--keystore"));
            char[] password = existingPassword(passwordFileOrBeside(passwordFile, ks));
            String label = token.keyLabel;
            CaCeremony.KeyAndChain entry = CaCeremony.readKeystore(ks, password, label);
            List<X509Certificate> certs = certAndChain(cert, chain);
            CaCeremony.KeyAndChain updated = new CaCeremony.KeyAndChain(entry.privateKey(), certs);
            CaCeremony.validateIssuer(updated, ca.clock.instant());
            if (label != null) {
                CaCeremony.putKeyEntry(ks, password, label, updated, true);
            } else {
                CaCeremony.writeKeystore(ks, updated, password);
            }
            ca.out.println("imported: " + certs.get(0).getSubjectX500Principal() + " with a chain of " + certs.size()
                    + " into " + ks);
            return 0;
        }

        private void intoToken() throws IOException {
            List<X509Certificate> certs = certAndChain(cert, chain);
            CaCeremony.validateIssuerChain(certs, ca.clock.instant());
            Pkcs11Token pkcs11 = token.open();
            String label = keyLabel(token.keyLabel);
            Pkcs11Token.Session session = pkcs11.open();
            try {
                Key key = session.keyStore().getKey(label, null);
                if (!(key instanceof PrivateKey privateKey)) {
                    throw new IllegalArgumentException("no private key labelled '" + label + "' in "
                            + pkcs11.describe() + " (keys: " + Pkcs11Token.keyAliases(session.keyStore()) + ")");
                }
                // Checks that the certificate is this key's before anything is stored.
                Pkcs11CaSigner.connect(pkcs11, label, certs, ca.clock, Duration.ZERO);
                session.keyStore().setKeyEntry(label, privateKey, null, certs.toArray(new Certificate[0]));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot store the chain in the token: " + Pkcs11Token.cause(e), e);
            }
            ca.out.println("imported: " + certs.get(0).getSubjectX500Principal() + " with a chain of "
                    + certs.size() + " as '" + label + "' into " + pkcs11.describe());
        }
    }

    @Command(name = "list", description = "show the CA keys and certificates a keystore or token "
            + "holds")
    static final class ListKeys implements Callable<Integer> {
        @ParentCommand
        CaCli ca;
        @Mixin
        Help help;

        @Option(names = "--keystore", paramLabel = "FILE", description = "the keystore")
        Path keystore;

        @Option(names = "--password-file", paramLabel = "F",
                description = "its password (otherwise FILE.pass or TRENT_CA_KEYSTORE_PASSWORD)")
        Path passwordFile;

        @Mixin
        Token token;

        @Override
        public Integer call() throws IOException {
            KeyStore ks;
            String where;
            if (token.given()) {
                Pkcs11Token pkcs11 = token.open();
                ks = pkcs11.open().keyStore();
                where = pkcs11.describe();
            } else {
                Path file = Path.of(required(keystore, "--keystore"));
                char[] password = existingPassword(passwordFileOrBeside(passwordFile, file));
                try (java.io.InputStream in = Files.newInputStream(file)) {
                    ks = KeyStore.getInstance("PKCS12");
                    ks.load(in, password);
                } catch (GeneralSecurityException e) {
                    throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
                }
                where = file.toString();
            }
            try {
                List<String> aliases = Collections.list(ks.aliases());
                Collections.sort(aliases);
                ca.out.println(where + ": " + aliases.size() + " entr" + (aliases.size() == 1 ? "y" : "ies"));
                for (String alias : aliases) {
                    Certificate[] chain = ks.getCertificateChain(alias);
                    if (chain == null && ks.getCertificate(alias) != null) {
                        chain = new Certificate[] {ks.getCertificate(alias)};
                    }
                    String kind = ks.isKeyEntry(alias) ? "key" : "certificate";
                    ca.out.println("  '" + alias + "' (" + kind + ")");
                    if (chain != null) {
                        for (Certificate c : chain) {
                            X509Certificate x = (X509Certificate) c;
                            ca.out.println("      " + x.getSubjectX500Principal() + "  until "
                                    + x.getNotAfter().toInstant() + (x.getBasicConstraints() >= 0 ? "  CA"
                                            : "  (not a CA: a placeholder?)"));
                        }
                    }
                }
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("cannot list " + where + ": " + Pkcs11Token.cause(e), e);
            }
            return 0;
        }
    }

    /**
     * Asks a running Trent to make the key with this label (in its configured keystore or token)
     * the active issuer: {@code POST /api/v1/issuers/rotate} with an ADMIN key from
     * {@code TRENT_API_KEY} or {@code --api-key-file}.
     */
    @Command(name = "rotate",
            description = "make another key in the server's keystore or token the active issuer (ADMIN key: "
                    + "TRENT_API_KEY or --api-key-file F)")
    static final class Rotate implements Callable<Integer> {
        @ParentCommand
        CaCli ca;
        @Mixin
        Help help;

        @Option(names = "--server", paramLabel = "URL", required = true,
                description = "the running Trent, e.g. http://localhost:8080")
        String server;

        @Option(names = "--key-label", paramLabel = "K", required = true,
                description = "the key (alias or token label) to make active")
        String keyLabel;

        @Option(names = "--allow-new-root", paramLabel = "true|false", arity = "1", defaultValue = "false",
                description = "also when the key chains to a different root (default ${DEFAULT-VALUE})")
        boolean allowNewRoot;

        @Option(names = "--api-key-file", paramLabel = "F", description = "the ADMIN API key (otherwise TRENT_API_KEY)")
        Path apiKeyFile;

        /** The body of {@code POST /api/v1/issuers/rotate}. */
        record Request(String keyLabel, boolean allowNewRoot) {
        }

        @Override
        public Integer call() throws IOException {
            String base = server.replaceAll("/+$", "");
            String apiKey;
            if (apiKeyFile != null) {
                apiKey = Files.readString(apiKeyFile, StandardCharsets.UTF_8).strip();
            } else {
                apiKey = System.getenv("TRENT_API_KEY");
                if (apiKey == null || apiKey.isBlank()) {
                    throw new IllegalArgumentException("give an ADMIN API key in TRENT_API_KEY or --api-key-file");
                }
            }
            HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/v1/issuers/rotate"))
                    .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(
                            new Request(keyLabel, allowNewRoot))))
                    .build();
            HttpResponse<String> response;
            try {
                response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            if (response.statusCode() != 200) {
                throw new IllegalStateException("rotation refused (HTTP " + response.statusCode() + "): "
                        + response.body());
            }
            ca.out.println(response.body());
            return 0;
        }
    }

    // ---- option values ----------------------------------------------------------------------------

    /** EC_P256 or EC_P384, the key types a CA may have. */
    static final class CaKeyType implements ITypeConverter<KeyType> {
        @Override
        public KeyType convert(String value) {
            if (value.equals(KeyType.EC_P256.name()) || value.equals(KeyType.EC_P384.name())) {
                return KeyType.valueOf(value);
            }
            throw new TypeConversionException("must be EC_P256 or EC_P384");
        }
    }

    /** A positive number of days. */
    static final class Days implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                int n = Integer.parseInt(value);
                if (n >= 1) {
                    return Duration.ofDays(n);
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new TypeConversionException("must be a positive number of days");
        }
    }

    /** A whole number. */
    static final class Number implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new TypeConversionException("must be a number");
            }
        }
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

    // ---- helpers ----------------------------------------------------------------------------------

    /** An option the chosen mode needs (picocli checks those every mode needs). */
    private static String required(Object value, String flag) {
        if (value == null || value.toString().isBlank()) {
            throw new IllegalArgumentException(flag + " is required");
        }
        return value.toString();
    }

    private static String keyLabel(String given) {
        return given == null ? CaCeremony.ALIAS : given;
    }

    /** The password for a new keystore: from the environment, or generated and saved beside it. */
    private char[] newKeystorePassword(Path keystore) throws IOException {
        String env = System.getenv("TRENT_CA_KEYSTORE_PASSWORD");
        if (env != null && !env.isEmpty()) {
            return env.toCharArray();
        }
        String generated = ceremony.newPassword();
        dev.trent.pki.PrivateFiles.writePrivateFile(passwordFileFor(keystore), generated.getBytes(StandardCharsets.UTF_8));
        return generated.toCharArray();
    }

    private static Path passwordFileFor(Path keystore) {
        return keystore.resolveSibling(keystore.getFileName() + ".pass");
    }

    /** The password file given, else the one written beside the keystore when it exists. */
    private static Path passwordFileOrBeside(Path given, Path keystore) {
        if (given == null && Files.exists(passwordFileFor(keystore))) {
            return passwordFileFor(keystore);
        }
        return given;
    }

    private static char[] existingPassword(Path passwordFile) throws IOException {
        if (passwordFile != null) {
            return Files.readString(passwordFile, StandardCharsets.UTF_8).strip().toCharArray();
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

    /** {@code --cert} (exactly one certificate) followed by {@code --chain} up to the root. */
    private static List<X509Certificate> certAndChain(Path certFile, Path chainFile) throws IOException {
        List<X509Certificate> certs = CaCeremony.readCertificates(certFile);
        if (certs.size() != 1) {
            throw new IllegalArgumentException("--cert must hold exactly the intermediate certificate");
        }
        List<X509Certificate> chain = new ArrayList<>(certs);
        for (X509Certificate c : CaCeremony.readCertificates(chainFile)) {
            if (!c.equals(certs.get(0))) {
                chain.add(c);
            }
        }
        return chain;
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
            session.keyStore().setKeyEntry(label, keys.getPrivate(), null, new Certificate[] {placeholder});
            return keys;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot store the new key in the token: " + Pkcs11Token.cause(e), e);
        }
    }
}
