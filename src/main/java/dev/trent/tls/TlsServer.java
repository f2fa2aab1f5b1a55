package dev.trent.tls;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.apache.catalina.LifecycleState;
import org.apache.catalina.connector.Connector;
import org.apache.coyote.http11.AbstractHttp11Protocol;
import org.apache.tomcat.util.net.SSLHostConfig;
import org.apache.tomcat.util.net.SSLHostConfigCertificate;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.ssl.pem.PemSslStore;
import org.springframework.boot.ssl.pem.PemSslStoreBundle;
import org.springframework.boot.ssl.pem.PemSslStoreDetails;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.SmartLifecycle;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

import dev.trent.ca.IssuerRegistry;
import dev.trent.ca.SigningException;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.CertificateStore;
import dev.trent.inventory.CertificateStatus;
import dev.trent.issuance.IssuanceService;
import dev.trent.pki.SerialNumbers;
import dev.trent.pki.Hashes;

/**
 * Trent's own HTTPS listener ({@code trent.tls.port}, default 8443) beside plain HTTP. TLS 1.2
 * and 1.3; client certificates are requested but optional, and accepted whatever their issuer
 * at the TLS layer ({@link AnyClientCertificateTrustManager}): the handshake still proves the
 * client holds the certificate's key, and each endpoint decides which certificates it accepts.
 *
 * <p>The server certificate is issued by Trent's active issuer just before the listener starts
 * (a fresh P-256 key) and replaced once half its validity has passed, or whenever the active
 * issuer changed; or it is the operator's ({@code trent.tls.certificate-file} and
 * {@code key-file}), used as given. An issued key and chain are kept in the data directory
 * ({@link TlsKeyFiles}: {@code tls/key.pem}, 0600) and reused by the next start while that
 * renewal is not due, so restarts do not fill the inventory with {@code trent-tls-*} rows.
 *
 * <p>Key and certificates become a key store through Spring Boot's SSL bundle types
 * ({@link PemSslStore}, {@link PemSslStoreBundle}). The listener itself is not a
 * {@code spring.ssl.bundle} of {@code server.ssl}: it is a second connector beside plain HTTP,
 * its certificate is issued at run time by Trent's own CA (no file to watch until then), renewed
 * at half-life and after issuer rotations, and it needs its own trust manager (any client
 * certificate, Trent's CAs named); so installing a new key store and asking Tomcat to reload its
 * SSL host config stays here.
 */
@Component
public class TlsServer implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, SmartLifecycle,
        org.springframework.core.Ordered {

    private static final Logger log = LoggerFactory.getLogger(TlsServer.class);
    private static final String ALIAS = "tls";

    private final TrentProperties.Tls settings;
    private final TrentProperties properties;
    private final ObjectProvider<IssuanceService> issuance;
    private final ObjectProvider<IssuerRegistry> issuers;
    private final ObjectProvider<dev.trent.manufacturer.ManufacturerCas> manufacturers;
    private final ObjectProvider<CertificateStore> certificates;
    private final TlsKeyFiles kept;
    private final SecureRandom random;
    private final Clock clock;
    private final char[] keystorePassword;

    private volatile Connector connector;
    private volatile SSLHostConfigCertificate certificate;
    private volatile List<X509Certificate> chain = List.of();
    private volatile boolean running;
    private volatile boolean issued;
    private volatile Instant newRootNoticeFor;
    private final Set<String> skippedNames = java.util.concurrent.ConcurrentHashMap.newKeySet();

    TlsServer(TrentProperties properties, ObjectProvider<IssuanceService> issuance, ObjectProvider<IssuerRegistry> issuers,
            ObjectProvider<dev.trent.manufacturer.ManufacturerCas> manufacturers,
            ObjectProvider<CertificateStore> certificates, SecureRandom random, Clock clock) {
        this.manufacturers = manufacturers;
        this.certificates = certificates;
        this.kept = new TlsKeyFiles(properties.dataDir().resolve("tls"));
        this.properties = properties;
        this.settings = properties.tls();
        this.issuance = issuance;
        this.issuers = issuers;
        this.random = random;
        this.clock = clock;
        byte[] pw = new byte[18];
        random.nextBytes(pw);
        this.keystorePassword = Base64.getEncoder().encodeToString(pw).toCharArray();
    }

    /** After Spring Boot's own Tomcat customizer, so that {@code server.tomcat.*} limits exist to copy. */
    @Override
    public int getOrder() {
        return org.springframework.core.Ordered.LOWEST_PRECEDENCE;
    }

    /**
     * Adds the HTTPS connector, with a placeholder certificate until {@link #start()} issues the
     * real one. It gets the HTTP connector's {@code server.tomcat.*} and {@code server.*} limits
     * (threads, connections, timeouts, header and body sizes): the connector and protocol handler
     * customizers Spring Boot registered for the main connector are applied to it too.
     */
    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public void customize(TomcatServletWebServerFactory factory) {
        if (!settings.enabled()) {
            return;
        }
        Connector c = new Connector(factory.getProtocol()); // Trent's, with request deadlines (web.RequestDeadlines)
        c.setPort(settings.port());
        c.setScheme("https");
        c.setSecure(true);
        c.setProperty("bindOnInit", "false");
        c.setEncodedSolidusHandling("decode"); // as on the HTTP connector: OCSP GET may carry %2F
        if (settings.address() != null && !settings.address().isBlank()) {
            c.setProperty("address", settings.address());
        }
        AbstractHttp11Protocol<?> protocol = (AbstractHttp11Protocol<?>) c.getProtocolHandler();
        protocol.setSSLEnabled(true);
        protocol.setSslImplementationName(HandshakeClientAuthJsseImplementation.class.getName());
        SSLHostConfig host = new SSLHostConfig();
        host.setProtocols("TLSv1.2+TLSv1.3");
        // Optional client certificates, accepted whatever their issuer at the TLS layer (Tomcat's
        // optional_no_ca is not honoured by JSSE with a trust store); endpoints decide.
        host.setCertificateVerification("optional");
        host.setTrustManagerClassName(AnyClientCertificateTrustManager.class.getName());
        SSLHostConfigCertificate cert = new SSLHostConfigCertificate(host, SSLHostConfigCertificate.Type.UNDEFINED);
        cert.setCertificateKeyAlias(ALIAS);
        cert.setCertificateKeystorePassword(new String(keystorePassword));
        cert.setCertificateKeystore(placeholder());
        host.addCertificate(cert);
        protocol.addSslHostConfig(host);
        for (org.springframework.boot.tomcat.TomcatConnectorCustomizer customizer : factory.getConnectorCustomizers()) {
            customizer.customize(c);
        }
        for (org.springframework.boot.tomcat.TomcatProtocolHandlerCustomizer customizer
                : factory.getProtocolHandlerCustomizers()) {
            try {
                customizer.customize(c.getProtocolHandler());
            } catch (ClassCastException e) {
                // a customizer for another protocol handler type: not for this connector
            }
        }
        factory.addAdditionalConnectors(c);
        this.connector = c;
        this.certificate = cert;
    }

    /** The port the HTTPS listener is bound to (useful with {@code trent.tls.port=0}), or -1. */
    public int port() {
        Connector c = connector;
        return c == null ? -1 : c.getLocalPort();
    }

    /** The HTTPS connector, or null when TLS is disabled. */
    public Connector connector() {
        return connector;
    }

    /** The certificate chain the listener presents (leaf first). */
    public List<X509Certificate> chain() {
        return chain;
    }

    // ---- lifecycle: runs after every bean exists, before the web server starts its connectors

    @Override
    public void start() {
        running = true;
        if (connector != null) {
            install(true);
        }
    }

    @Override
    public void stop() {
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public int getPhase() {
        // Before Spring Boot's web server start (DEFAULT_PHASE - 2048): the real certificate is
        // in place when the connector first binds.
        return SmartLifecycle.DEFAULT_PHASE - 4096;
    }

    /**
     * Renews the certificate at half its validity, after a rotation to an issuer under the same
     * root, or after a failed issuance; and picks up manufacturer CAs registered on another
     * instance. After a rotation to a new root the current certificate is kept until its normal
     * renewal: devices that trust only the old root keep reaching HTTPS meanwhile and can fetch
     * the new root from {@code cacerts}.
     */
    @Scheduled(initialDelayString = "60s", fixedDelayString = "60s")
    public void renewIfDue() {
        if (connector == null) {
            return;
        }
        try {
            refreshClientCaNames();
        } catch (RuntimeException e) {
            // The CA names wait for the next round; the certificate's renewal must not.
            log.warn("Cannot refresh the client CA names now: {}", e.getMessage());
        }
        if (settings.certificateFile() != null) {
            return;
        }
        List<X509Certificate> current = chain;
        boolean due = !issued || current.isEmpty();
        if (!due) {
            Instant half = halfLife(current.get(0));
            dev.trent.ca.Issuer active = issuers.getObject().active();
            boolean rotated = !current.get(1).equals(active.certificate());
            List<X509Certificate> activeChain = active.signer().chain();
            boolean sameRoot = signedBy(current.get(1), activeChain.get(activeChain.size() - 1));
            if (rotated && !sameRoot && !half.equals(newRootNoticeFor)) {
                newRootNoticeFor = half; // once per certificate, not every minute until then
                log.warn("The active issuer is under a new root; the HTTPS certificate moves to it at its normal "
                        + "renewal ({}), so that devices can fetch the new root first", half);
            }
            due = !clock.instant().isBefore(half) || rotated && sameRoot;
        }
        if (due) {
            install(!issued); // after a failed issuance the kept certificate may serve; a due renewal never reuses it
        }
    }

    /** Whether {@code intermediate} was signed by {@code root}'s key: the same hierarchy. */
    private static boolean signedBy(X509Certificate intermediate, X509Certificate root) {
        try {
            intermediate.verify(root.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    /**
     * A manufacturer CA was registered or removed (by the API or the console) and committed: the
     * CertificateRequest names the new set. A failure to read it leaves the minute's refresh
     * ({@link #renewIfDue}) to pick it up; the registration itself stands.
     */
    @org.springframework.transaction.event.TransactionalEventListener
    void manufacturerCasChanged(dev.trent.manufacturer.ManufacturerCasChanged changed) {
        try {
            refreshClientCaNames();
        } catch (RuntimeException e) {
            log.warn("Cannot refresh the client CA names now: {}; retried within a minute", e.getMessage());
        }
    }

    /** Re-reads the CAs the CertificateRequest names (Trent's issuers, registered manufacturer CAs). */
    public void refreshClientCaNames() {
        if (connector != null) {
            AnyClientCertificateTrustManager.acceptedIssuers(clientCaNames());
        }
    }

    /** Issues and installs a new certificate now (the operator's file is read again). */
    public void renewNow() {
        if (connector != null) {
            install(false);
        }
    }

    /** @param mayReuse whether the certificate kept from the last run may serve, when its renewal is not due */
    private synchronized void install(boolean mayReuse) {
        try {
            AnyClientCertificateTrustManager.acceptedIssuers(clientCaNames());
            KeyStore ks = settings.certificateFile() != null ? operatorKeystore() : issuedKeystore(mayReuse);
            certificate.setCertificateKeystore(ks);
            Connector c = connector;
            if (c.getState() == LifecycleState.STARTED) {
                // Running: new handshakes get the new certificate, open connections keep theirs.
                ((AbstractHttp11Protocol<?>) c.getProtocolHandler()).reloadSslHostConfigs();
            }
            issued = true;
            log.info("HTTPS on port {}: certificate {} for {} until {}", settings.port(),
                    chain.get(0).getSerialNumber().toString(16), names(), chain.get(0).getNotAfter().toInstant());
        } catch (SigningException e) {
            issued = false;
            log.error("The TLS server certificate cannot be issued now ({}); HTTPS presents a self-signed "
                    + "placeholder until it can (retried every minute)", e.getMessage());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot set up the HTTPS listener: " + e.getMessage(), e);
        }
    }

    private KeyStore issuedKeystore(boolean mayReuse) throws GeneralSecurityException, IOException {
        if (mayReuse) {
            java.util.Optional<TlsKeyFiles.Kept> last = kept.read();
            String unusable = last.isEmpty() ? "none kept" : unusable(last.get());
            if (unusable == null) {
                log.info("HTTPS: reusing the certificate kept from the last run (renewal due at {})",
                        halfLife(last.get().chain().get(0)));
                return keystore(last.get().key(), last.get().chain());
            }
            log.debug("HTTPS: the kept certificate is not reused ({}); issuing a new one", unusable);
        }
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"), random);
        KeyPair keys = g.generateKeyPair();
        byte[] spki = keys.getPublic().getEncoded();
        List<String> ips = ipAddresses();
        // Leaf + the intermediate that signed it: the root is the client's trust anchor.
        List<X509Certificate> full = issuance.getObject().issueTlsServer(SubjectPublicKeyInfo.getInstance(spki),
                Hashes.sha256Hex(spki), dnsNames(), ips, settings.validity());
        try {
            kept.write(keys.getPrivate(), full);
        } catch (IOException e) {
            // HTTPS works without it; the next start issues a new certificate.
            log.warn("Cannot keep the HTTPS key and certificate in {} for the next start: {}", kept.directory(),
                    e.getMessage());
        }
        return keystore(keys.getPrivate(), full);
    }

    /**
     * Why the kept key and chain cannot serve now, or null when they can: the renewal that
     * {@link #renewIfDue} would make must not be due (half-life, active issuer), the names must
     * be the configured ones, the key must be the certificate's, and the inventory must still
     * hold the certificate as issued (not revoked, not a database from another installation).
     */
    private String unusable(TlsKeyFiles.Kept last) {
        X509Certificate leaf = last.chain().get(0);
        Instant now = clock.instant();
        if (now.isBefore(leaf.getNotBefore().toInstant()) || !now.isBefore(halfLife(leaf))) {
            return "outside the first half of its validity";
        }
        if (last.chain().size() < 2 || !last.chain().get(1).equals(issuers.getObject().active().certificate())) {
            return "not issued by the active issuer";
        }
        if (!TlsKeyFiles.names(leaf).equals(TlsKeyFiles.normalized(names()))) {
            return "its names are not the configured ones";
        }
        try {
            if (!keyMatches(last.key(), leaf)) {
                return "the key is not the certificate's";
            }
        } catch (GeneralSecurityException e) {
            return "the key cannot sign for the certificate: " + e.getMessage();
        }
        boolean issuedHere = certificates.getObject().bySerial(SerialNumbers.toHex(leaf.getSerialNumber()))
                .filter(r -> r.status() == CertificateStatus.ISSUED).isPresent();
        return issuedHere ? null : "not in the inventory as issued";
    }

    private static Instant halfLife(X509Certificate leaf) {
        Instant notBefore = leaf.getNotBefore().toInstant();
        return notBefore.plus(Duration.between(notBefore, leaf.getNotAfter().toInstant()).dividedBy(2));
    }

    private KeyStore operatorKeystore() throws GeneralSecurityException, IOException {
        PemSslStore store;
        try {
            store = PemSslStore.load(PemSslStoreDetails.forCertificates(settings.certificateFile().toUri().toString())
                    .withPrivateKey(settings.keyFile().toUri().toString()));
        } catch (RuntimeException e) {
            throw new IOException("trent.tls.certificate-file must hold the certificate chain (leaf first) and "
                    + "trent.tls.key-file its unencrypted private key (PKCS#8, PKCS#1 or SEC 1 PEM): " + e.getMessage(), e);
        }
        List<X509Certificate> certs = store.certificates();
        if (certs == null || certs.isEmpty() || store.privateKey() == null) {
            throw new IOException("trent.tls.certificate-file must hold the certificate chain (leaf first) and "
                    + "trent.tls.key-file its unencrypted private key");
        }
        certs.get(0).checkValidity(Date.from(clock.instant()));
        if (!keyMatches(store.privateKey(), certs.get(0))) {
            throw new GeneralSecurityException("trent.tls.key-file does not hold the key of the certificate in "
                    + "trent.tls.certificate-file (" + certs.get(0).getSubjectX500Principal() + ")");
        }
        return keystore(store.privateKey(), certs);
    }

    /** Whether {@code key} signs what {@code cert}'s public key verifies. */
    private static boolean keyMatches(PrivateKey key, X509Certificate cert) throws GeneralSecurityException {
        String algorithm = cert.getPublicKey().getAlgorithm();
        String signatureAlgorithm = algorithm.equals("RSA") ? "SHA256withRSA"
                : algorithm.equals("EC") ? "SHA256withECDSA" : algorithm;
        java.security.Signature probe = java.security.Signature.getInstance(signatureAlgorithm);
        probe.initSign(key);
        probe.update(ALIAS.getBytes(StandardCharsets.US_ASCII));
        byte[] sig = probe.sign();
        java.security.Signature check = java.security.Signature.getInstance(signatureAlgorithm);
        check.initVerify(cert.getPublicKey());
        check.update(ALIAS.getBytes(StandardCharsets.US_ASCII));
        return check.verify(sig);
    }

    /** The key store for Tomcat, and the chain it now presents. */
    private KeyStore keystore(PrivateKey key, List<X509Certificate> certs) {
        KeyStore ks = keyStoreOf(key, certs);
        chain = List.copyOf(certs);
        return ks;
    }

    private KeyStore keyStoreOf(PrivateKey key, List<X509Certificate> certs) {
        return new PemSslStoreBundle(PemSslStore.of(certs, key).withAlias(ALIAS)
                .withPassword(new String(keystorePassword)), null).getKeyStore();
    }

    /**
     * The CAs named in the TLS CertificateRequest: Trent's issuers and their roots, and the
     * registered manufacturer CAs (so that a device offers its factory certificate). Without it
     * Tomcat would name every CA in the JVM's cacerts (some 150 public roots): a long handshake
     * message for a small device, and an invitation to present a certificate nobody here trusts.
     * Certificates are still not validated at the TLS layer ({@code optional_no_ca}). Names a
     * client might not parse, and names beyond the size bound, are left out ({@link ClientCaNames}).
     */
    private X509Certificate[] clientCaNames() {
        List<X509Certificate> candidates = new ArrayList<>();
        for (dev.trent.ca.Issuer issuer : issuers.getObject().all()) {
            candidates.addAll(issuer.signer().chain());
        }
        candidates.addAll(manufacturers.getObject().certificates());
        ClientCaNames.Selection selection = ClientCaNames.select(candidates);
        for (ClientCaNames.Skipped s : selection.skipped()) {
            String key = s.certificate().getSubjectX500Principal().getName() + "|" + s.certificate().getSerialNumber()
                    + "|" + s.reason();
            if (skippedNames.add(key)) { // once per certificate and reason, not every minute
                log.warn("The TLS CertificateRequest does not name CA {} (serial {}): {}",
                        s.certificate().getSubjectX500Principal().getName(), s.certificate().getSerialNumber().toString(16),
                        s.reason());
            }
        }
        return selection.named().toArray(new X509Certificate[0]);
    }

    /** A short-lived self-signed certificate, so that the connector can be configured before any CA exists. */
    private KeyStore placeholder() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            KeyPair keys = g.generateKeyPair();
            X500Name name = new X500Name("CN=Trent TLS placeholder (not yet issued)");
            Instant now = clock.instant();
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
                    new BigInteger(64, random).setBit(0), Date.from(now), Date.from(now.plus(Duration.ofDays(1))), name,
                    keys.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
            return keyStoreOf(keys.getPrivate(), List.of(cert));
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException("cannot create the TLS placeholder certificate", e);
        }
    }

    /** Configured DNS names, or localhost and the public base URL's host when it is a name. */
    List<String> dnsNames() {
        if (!settings.dnsNames().isEmpty()) {
            return settings.dnsNames();
        }
        Set<String> out = new LinkedHashSet<>();
        out.add("localhost");
        String host = properties.publicBaseUrl().getHost();
        if (host != null && !isIpLiteral(host)) {
            out.add(host.toLowerCase(java.util.Locale.ROOT));
        }
        return List.copyOf(out);
    }

    /** Configured IP addresses, or 127.0.0.1 and ::1 and the public base URL's host when it is an address. */
    List<String> ipAddresses() {
        if (!settings.ipAddresses().isEmpty()) {
            return settings.ipAddresses();
        }
        Set<String> out = new LinkedHashSet<>(List.of("127.0.0.1", "::1"));
        String host = properties.publicBaseUrl().getHost();
        if (host != null && isIpLiteral(host)) {
            out.add(host.replace("[", "").replace("]", ""));
        }
        return List.copyOf(out);
    }

    private List<String> names() {
        List<String> all = new ArrayList<>(dnsNames());
        all.addAll(ipAddresses());
        return all;
    }

    private static boolean isIpLiteral(String host) {
        return host.startsWith("[") || host.matches("[0-9.]+") || host.contains(":");
    }
}
