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
import org.springframework.jdbc.core.JdbcTemplate;

import dev.trent.config.TrentProperties;
import dev.trent.pki.Pem;

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

    /** Where the issuing keys live: the configured token, keystore, or the embedded CA's keystore. */
    @Bean
    CaKeySource caKeySource(TrentProperties properties, CaCeremony ceremony, Clock clock, ConfigurableEnvironment env)
            throws IOException {
        TrentProperties.Ca ca = properties.ca();
        if (ca.signer() == TrentProperties.SignerType.PKCS11) {
            TrentProperties.Pkcs11 p = ca.pkcs11();
            Pkcs11Token token = new Pkcs11Token(p.library(), p.slotIndex(), p.tokenLabel(), pinSource(p, env));
            List<X509Certificate> chainFromFile = ca.chainFile() == null ? null
                    : CaCeremony.readCertificates(ca.chainFile());
            return new CaKeySource.Pkcs11(token, p.keyLabel(), chainFromFile, clock, p.reconnectInterval());
        }
        TrentProperties.Keystore external = ca.keystore();
        if (external.path() != null) {
            password(external); // fails at start when there is none
            return new CaKeySource.Keystore(external.path(), () -> {
                try {
                    return password(external);
                } catch (IOException e) {
                    throw new CaUnavailableException("cannot read " + external.passwordFile() + ": " + e, e);
                }
            }, external.alias(), ca.chainFile(), clock);
        }
        EmbeddedCaFiles files = createEmbeddedIfMissing(properties, ceremony);
        return new CaKeySource.Keystore(files.intermediateKeystore(), () -> {
            try {
                return Files.readString(files.intermediatePassword(), StandardCharsets.UTF_8).strip().toCharArray();
            } catch (IOException e) {
                throw new CaUnavailableException("cannot read " + files.intermediatePassword() + ": " + e, e);
            }
        }, CaCeremony.ALIAS, null, clock);
    }

    /**
     * The configured issuing key. When it cannot be used at start, Trent stops with one line
     * naming the cause; with a PKCS#11 token and {@code trent.ca.start-degraded} it runs without
     * it (health DOWN, signing answered with 503) and connects once the token is back; the chain
     * then comes from the chain file or from what PostgreSQL recorded for this key.
     */
    @Bean
    CaSigner caSigner(CaKeySource source, TrentProperties properties, Clock clock,
            org.springframework.beans.factory.ObjectProvider<JdbcTemplate> jdbc) throws IOException {
        TrentProperties.Ca ca = properties.ca();
        try {
            CaSigner signer = source.load(source.defaultLabel());
            List<X509Certificate> chain = signer.chain();
            log.info("Issuing CA: {} (chain of {} up to {}), {}", chain.get(0).getSubjectX500Principal(), chain.size(),
                    chain.get(chain.size() - 1).getSubjectX500Principal(), KeyStatus.of(signer).describe());
            return signer;
        } catch (CaUnavailableException e) {
            if (!(source instanceof CaKeySource.Pkcs11 hsm) || !ca.startDegraded()) {
                throw e;
            }
            TrentProperties.Pkcs11 p = ca.pkcs11();
            List<X509Certificate> chain = ca.chainFile() != null ? CaCeremony.readCertificates(ca.chainFile())
                    : IssuerRegistry.recordedChain(jdbc.getObject(), Pkcs11CaSigner.keyReference(hsm.token(),
                            p.keyLabel()));
            if (chain == null) {
                throw new CaUnavailableException(e.getMessage() + "; cannot start degraded either: the CA chain is "
                        + "unknown (set trent.ca.chain-file, or start once with the token present)", e);
            }
            log.error("Starting DEGRADED without the CA key: {}. Enrollment answers 503 until the token is back.",
                    e.getMessage());
            return Pkcs11CaSigner.disconnected(hsm.token(), p.keyLabel(), chain, clock, p.reconnectInterval(),
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
        // Whatever name or source it was bound from, a PIN property that is not exactly the
        // environment variable came from somewhere else: refuse it (and one beside a PIN file).
        String fromEnvironment = System.getenv("TRENT_CA_PKCS11_PIN");
        if (p.pin() != null && (!p.pin().equals(fromEnvironment) || p.pinFile() != null)) {
            throw new CaUnavailableException(p.pinFile() != null && p.pin().equals(fromEnvironment)
                    ? "both trent.ca.pkcs11.pin-file and TRENT_CA_PKCS11_PIN are set; set one"
                    : "the PKCS#11 PIN was given as a property (command line, system property or file); it may come "
                            + "only from the environment variable TRENT_CA_PKCS11_PIN or from trent.ca.pkcs11.pin-file",
                    null);
        }
        return Pkcs11Token.pinSource(p.pinFile(), p.pin());
    }

    private static char[] password(TrentProperties.Keystore ks) throws IOException {
        if (ks.password() != null && !ks.password().isEmpty()) {
            return ks.password().toCharArray();
        }
        if (ks.passwordFile() != null) {
            return Files.readString(ks.passwordFile(), StandardCharsets.UTF_8).strip().toCharArray();
        }
        throw new CaUnavailableException("trent.ca.keystore.path is set but neither trent.ca.keystore.password "
                + "(TRENT_CA_KEYSTORE_PASSWORD) nor trent.ca.keystore.password-file is", null);
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

    private static EmbeddedCaFiles createEmbeddedIfMissing(TrentProperties properties, CaCeremony ceremony)
            throws IOException {
        EmbeddedCaFiles files = new EmbeddedCaFiles(properties.dataDir().resolve("ca"));
        if (Files.exists(files.intermediateKeystore())) {
            // Data directories made before the certificates were owner-only like the rest.
            for (Path pem : List.of(files.rootPem(), files.chainPem())) {
                if (dev.trent.pki.PrivateFiles.restrictToOwner(pem)) {
                    log.info("Made {} owner-only, like every file in {}", pem, files.dir());
                }
            }
            return files;
        }
        TrentProperties.Ca ca = properties.ca();
        log.info("No CA configured and none under {}: creating a root and an intermediate ({})", files.dir(),
                ca.keyAlgorithm());
        CaCeremony.Hierarchy h = ceremony.createHierarchy(ca.keyAlgorithm(), ca.organization(), ca.rootValidity(),
                ca.intermediateValidity());
        dev.trent.pki.PrivateFiles.createPrivateDirectory(files.dir());
        String rootPassword = ceremony.newPassword();
        dev.trent.pki.PrivateFiles.writePrivateFile(files.rootPassword(), rootPassword.getBytes(StandardCharsets.UTF_8));
        CaCeremony.writeKeystore(files.rootKeystore(), h.root(), rootPassword.toCharArray());
        // Owner-only like everything in this directory: one rule to check; the root is public at
        // /api/v1/ca/root for whoever needs it.
        dev.trent.pki.PrivateFiles.writePrivateFile(files.rootPem(),
                Pem.certificates(h.root().chain()).getBytes(StandardCharsets.US_ASCII));
        dev.trent.pki.PrivateFiles.writePrivateFile(files.chainPem(),
                Pem.certificates(h.intermediate().chain()).getBytes(StandardCharsets.US_ASCII));
        String password = ceremony.newPassword();
        dev.trent.pki.PrivateFiles.writePrivateFile(files.intermediatePassword(), password.getBytes(StandardCharsets.UTF_8));
        // Written last: its presence marks a finished ceremony.
        CaCeremony.writeKeystore(files.intermediateKeystore(), h.intermediate(), password.toCharArray());
        log.info("Created root {} and intermediate {}. The root key ({}) is not used again by the service; "
                + "move it offline.", h.root().certificate().getSubjectX500Principal(),
                h.intermediate().certificate().getSubjectX500Principal(), files.rootKeystore());
        return files;
    }
}
