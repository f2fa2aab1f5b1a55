package dev.trent.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.security.cert.X509Certificate;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.jdbc.core.JdbcTemplate;

import dev.trent.config.TrentProperties;

/**
 * Chooses the issuing CA at start: an operator-supplied PKCS#12 intermediate when
 * {@code trent.ca.keystore.path} is set, otherwise the one under {@code <data-dir>/ca}, which is
 * created (root and intermediate) on the very first start.
 */
@Configuration(proxyBeanMethods = false)
class CaConfiguration {

    private static final Logger log = LoggerFactory.getLogger(CaConfiguration.class);

    @Bean
    CaCeremony caCeremony(SecureRandom random, Clock clock) {
        return new CaCeremony(random, clock);
    }

    @Bean
    CaSigner caSigner(TrentProperties properties, CaCeremony ceremony, Clock clock, ConfigurableEnvironment env,
            org.springframework.beans.factory.ObjectProvider<JdbcTemplate> jdbc) throws IOException {
        if (properties.ca().signer() == TrentProperties.SignerType.PKCS11) {
            return pkcs11Signer(properties.ca(), clock, env, jdbc);
        }
        TrentProperties.Keystore external = properties.ca().keystore();
        CaCeremony.KeyAndChain issuer;
        try {
            issuer = external.path() != null
                    ? loadExternal(properties, external)
                    : loadOrCreateEmbedded(properties, ceremony);
            CaCeremony.validateIssuer(issuer);
        } catch (IOException | IllegalStateException e) {
            throw new CaUnavailableException(e.getMessage(), e);
        }
        log.info("Issuing CA: {} (chain of {} up to {})", issuer.certificate().getSubjectX500Principal(),
                issuer.chain().size(), issuer.chain().get(issuer.chain().size() - 1).getSubjectX500Principal());
        Path keystore = external.path() != null ? external.path()
                : new EmbeddedCaFiles(properties.dataDir().resolve("ca")).intermediateKeystore();
        // "*": the keystore's only key entry.
        String alias = external.path() == null ? CaCeremony.ALIAS : external.alias() != null ? external.alias() : "*";
        return new KeystoreCaSigner(issuer.privateKey(), issuer.chain(),
                "keystore:" + keystore.toAbsolutePath().normalize() + "#" + alias);
    }

    /**
     * The CA key in a PKCS#11 token; its chain from the token or from {@code trent.ca.chain-file}.
     * When the token cannot be used at start, Trent stops with one line naming the cause, or with
     * {@code trent.ca.start-degraded} runs without it (health DOWN, signing answered with 503)
     * and connects once the token is back; the chain then comes from the chain file or from
     * what PostgreSQL recorded for this key.
     */
    private static CaSigner pkcs11Signer(TrentProperties.Ca ca, Clock clock, ConfigurableEnvironment env,
            org.springframework.beans.factory.ObjectProvider<JdbcTemplate> jdbc) throws IOException {
        TrentProperties.Pkcs11 p = ca.pkcs11();
        Pkcs11Token token = new Pkcs11Token(p.library(), p.slotIndex(), p.tokenLabel(), pinSource(p, env));
        List<X509Certificate> chainFromFile = ca.chainFile() == null ? null : CaCeremony.readCertificates(ca.chainFile());
        try {
            Pkcs11CaSigner signer = Pkcs11CaSigner.connect(token, p.keyLabel(), chainFromFile, clock,
                    p.reconnectInterval());
            CaCeremony.validateIssuerChain(signer.chain());
            log.info("Issuing CA: {} (chain of {}), key '{}' in {}", signer.issuerCertificate().getSubjectX500Principal(),
                    signer.chain().size(), p.keyLabel(), token.describe());
            return signer;
        } catch (IllegalStateException e) {
            if (!ca.startDegraded()) {
                throw e;
            }
            List<X509Certificate> chain = chainFromFile != null ? chainFromFile
                    : IssuerRegistry.recordedChain(jdbc.getObject(), Pkcs11CaSigner.keyReference(token, p.keyLabel()));
            if (chain == null) {
                throw new IllegalStateException(e.getMessage() + "; cannot start degraded either: the CA chain is "
                        + "unknown (set trent.ca.chain-file, or start once with the token present)", e);
            }
            log.error("Starting DEGRADED without the CA key: {}. Enrollment answers 503 until the token is back.",
                    e.getMessage());
            return Pkcs11CaSigner.disconnected(token, p.keyLabel(), chain, clock, p.reconnectInterval(),
                    e.getMessage());
        }
    }

    /**
     * The PIN, from {@code trent.ca.pkcs11.pin-file} or the environment variable
     * {@code TRENT_CA_PKCS11_PIN}; refused from anywhere else (command line, system property,
     * a properties file), where it would be visible or stored.
     */
    private static java.util.function.Supplier<char[]> pinSource(TrentProperties.Pkcs11 p,
            ConfigurableEnvironment env) {
        if (p.pin() != null && p.pinFile() == null) {
            for (org.springframework.core.env.PropertySource<?> source : env.getPropertySources()) {
                if ("configurationProperties".equals(source.getName())
                        || !source.containsProperty("trent.ca.pkcs11.pin")) {
                    continue;
                }
                if (!source.getName().equals(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME)) {
                    throw new CaUnavailableException("the PKCS#11 PIN was given in " + source.getName() + "; it may "
                            + "come only from the environment variable TRENT_CA_PKCS11_PIN or from "
                            + "trent.ca.pkcs11.pin-file", null);
                }
                break;
            }
        }
        return Pkcs11Token.pinSource(p.pinFile(), p.pin());
    }

    private static CaCeremony.KeyAndChain loadExternal(TrentProperties properties, TrentProperties.Keystore ks)
            throws IOException {
        char[] password = password(ks);
        CaCeremony.KeyAndChain entry = CaCeremony.readKeystore(ks.path(), password, ks.alias());
        Path chainFile = properties.ca().chainFile();
        if (chainFile != null) {
            List<java.security.cert.X509Certificate> chain = new ArrayList<>();
            chain.add(entry.certificate());
            for (java.security.cert.X509Certificate c : CaCeremony.readCertificates(chainFile)) {
                if (!c.equals(entry.certificate())) {
                    chain.add(c);
                }
            }
            entry = new CaCeremony.KeyAndChain(entry.privateKey(), chain);
        }
        return entry;
    }

    private static char[] password(TrentProperties.Keystore ks) throws IOException {
        if (ks.password() != null && !ks.password().isEmpty()) {
            return ks.password().toCharArray();
        }
        if (ks.passwordFile() != null) {
            return Files.readString(ks.passwordFile(), StandardCharsets.UTF_8).strip().toCharArray();
        }
        throw new IllegalStateException("trent.ca.keystore.path is set but neither trent.ca.keystore.password "
                + "(TRENT_CA_KEYSTORE_PASSWORD) nor trent.ca.keystore.password-file is");
    }

    /** Files of the CA that Trent creates for itself under {@code <data-dir>/ca}. */
    record EmbeddedCaFiles(Path dir) {
        Path intermediateKeystore() {
            return dir.resolve("intermediate.p12");
        }

        Path intermediatePassword() {
            return dir.resolve("intermediate.p12.pass");
        }

        Path rootKeystore() {
            return dir.resolve("root.p12");
        }

        Path rootPassword() {
            return dir.resolve("root.p12.pass");
        }

        Path chainPem() {
            return dir.resolve("chain.pem");
        }

        Path rootPem() {
            return dir.resolve("root.pem");
        }
    }

    private static CaCeremony.KeyAndChain loadOrCreateEmbedded(TrentProperties properties, CaCeremony ceremony)
            throws IOException {
        EmbeddedCaFiles files = new EmbeddedCaFiles(properties.dataDir().resolve("ca"));
        if (Files.exists(files.intermediateKeystore())) {
            char[] password = Files.readString(files.intermediatePassword(), StandardCharsets.UTF_8).strip()
                    .toCharArray();
            return CaCeremony.readKeystore(files.intermediateKeystore(), password, CaCeremony.ALIAS);
        }
        TrentProperties.Ca ca = properties.ca();
        log.info("No CA configured and none under {}: creating a root and an intermediate ({})", files.dir(),
                ca.keyAlgorithm());
        CaCeremony.Hierarchy h = ceremony.createHierarchy(ca.keyAlgorithm(), ca.organization(), ca.rootValidity(),
                ca.intermediateValidity());
        CaCeremony.createPrivateDirectory(files.dir());
        String rootPassword = ceremony.newPassword();
        CaCeremony.writePrivateFile(files.rootPassword(), rootPassword.getBytes(StandardCharsets.UTF_8));
        CaCeremony.writeKeystore(files.rootKeystore(), h.root(), rootPassword.toCharArray());
        CaCeremony.writeCertificates(files.rootPem(), h.root().chain());
        CaCeremony.writeCertificates(files.chainPem(), h.intermediate().chain());
        String password = ceremony.newPassword();
        CaCeremony.writePrivateFile(files.intermediatePassword(), password.getBytes(StandardCharsets.UTF_8));
        // Written last: its presence marks a finished ceremony.
        CaCeremony.writeKeystore(files.intermediateKeystore(), h.intermediate(), password.toCharArray());
        log.info("Created root {} and intermediate {}. The root key ({}) is not used again by the service; "
                + "move it offline.", h.root().certificate().getSubjectX500Principal(),
                h.intermediate().certificate().getSubjectX500Principal(), files.rootKeystore());
        return h.intermediate();
    }
}
