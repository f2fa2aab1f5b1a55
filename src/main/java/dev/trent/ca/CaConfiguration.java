package dev.trent.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

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
    CaSigner caSigner(TrentProperties properties, CaCeremony ceremony) throws IOException {
        TrentProperties.Keystore external = properties.ca().keystore();
        CaCeremony.KeyAndChain issuer = external.path() != null
                ? loadExternal(properties, external)
                : loadOrCreateEmbedded(properties, ceremony);
        CaCeremony.validateIssuer(issuer);
        log.info("Issuing CA: {} (chain of {} up to {})", issuer.certificate().getSubjectX500Principal(),
                issuer.chain().size(), issuer.chain().get(issuer.chain().size() - 1).getSubjectX500Principal());
        return new KeystoreCaSigner(issuer.privateKey(), issuer.chain());
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
