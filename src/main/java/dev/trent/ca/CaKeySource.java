package dev.trent.ca;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The container the issuing keys live in, with keys by label: a PKCS#12 keystore (label = alias)
 * or a PKCS#11 token (label = CKA_LABEL). Holds the configured key and, for issuer rotation,
 * the keys of the next and of former issuers. Every instance loads an issuer's key from its own
 * configured container by the label PostgreSQL records.
 */
public interface CaKeySource {

    /** The container, for messages (never a secret). */
    String describe();

    /** The label of the key Trent is configured with. */
    String defaultLabel();

    /**
     * The container in the form key references start with ({@code keystore:/abs/path} or
     * {@code pkcs11:token=LABEL}): a recorded key whose reference starts with it lives here.
     */
    String containerReference();

    /** The labels of the key entries the container holds now. */
    List<String> labels();

    /**
     * A signer for the key with this label, whose chain is checked (valid now, a CA, each
     * certificate signed by the next up to a self-signed root) and whose key matches it.
     *
     * @throws CaUnavailableException naming what is missing or wrong
     */
    CaSigner load(String label);

    /** Keys in a PKCS#12 file, read anew at every load (so entries the CLI added are seen). */
    final class Keystore implements CaKeySource {
        private final Path file;
        private final Supplier<char[]> password;
        private final String defaultLabel;
        private final Path chainFile;
        private final Clock clock;

        /**
         * @param defaultLabel the configured alias, or null for the keystore's only key entry
         * @param chainFile    PEM certificates that complete an entry's chain up to the root, or null
         */
        public Keystore(Path file, Supplier<char[]> password, String defaultLabel, Path chainFile, Clock clock) {
            this.file = file;
            this.clock = clock;
            this.password = password;
            this.defaultLabel = defaultLabel;
            this.chainFile = chainFile;
        }

        @Override
        public String describe() {
            return "keystore " + file;
        }

        /** The configured alias, or the keystore's only key entry's alias when none is configured. */
        @Override
        public String defaultLabel() {
            if (defaultLabel != null) {
                return defaultLabel;
            }
            List<String> keys = labels();
            return keys.size() == 1 ? keys.get(0) : null;
        }

        @Override
        public String containerReference() {
            return "keystore:" + file.toAbsolutePath().normalize();
        }

        @Override
        public List<String> labels() {
            try {
                return Pkcs11Token.keyAliases(CaCeremony.loadKeystore(file, password.get()));
            } catch (IOException | GeneralSecurityException e) {
                throw new CaUnavailableException(e.getMessage(), e);
            }
        }

        @Override
        public CaSigner load(String label) {
            try {
                CaCeremony.KeyAndChain entry = CaCeremony.readKeystore(file, password.get(), label);
                entry = completeChain(entry);
                CaCeremony.validateIssuer(entry, clock.instant());
                String alias = label != null ? label : defaultLabel();
                return new KeystoreCaSigner(entry.privateKey(), entry.chain(), containerReference() + "#" + alias);
            } catch (IOException | IllegalStateException e) {
                throw e instanceof CaUnavailableException c ? c : new CaUnavailableException(e.getMessage(), e);
            }
        }

        private CaCeremony.KeyAndChain completeChain(CaCeremony.KeyAndChain entry) throws IOException {
            if (chainFile == null) {
                return entry;
            }
            List<X509Certificate> chain = new ArrayList<>();
            chain.add(entry.certificate());
            for (X509Certificate c : CaCeremony.readCertificates(chainFile)) {
                if (!c.equals(entry.certificate())) {
                    chain.add(c);
                }
            }
            return new CaCeremony.KeyAndChain(entry.privateKey(), chain);
        }
    }

    /** Keys in a PKCS#11 token. */
    final class Pkcs11 implements CaKeySource {
        private final Pkcs11Token token;
        private final String defaultLabel;
        private final List<X509Certificate> defaultChain;
        private final Clock clock;
        private final Duration reconnectInterval;

        /** @param defaultChain the chain file's certificates for the configured key, or null (from the token) */
        public Pkcs11(Pkcs11Token token, String defaultLabel, List<X509Certificate> defaultChain, Clock clock,
                Duration reconnectInterval) {
            this.token = token;
            this.defaultLabel = defaultLabel;
            this.defaultChain = defaultChain;
            this.clock = clock;
            this.reconnectInterval = reconnectInterval;
        }

        public Pkcs11Token token() {
            return token;
        }

        @Override
        public String describe() {
            return token.describe();
        }

        @Override
        public String defaultLabel() {
            return defaultLabel;
        }

        @Override
        public String containerReference() {
            return token.containerUri();
        }

        @Override
        public List<String> labels() {
            try {
                return Pkcs11Token.keyAliases(token.freshKeyStore());
            } catch (GeneralSecurityException e) {
                throw new CaUnavailableException("cannot list the keys in " + token.describe() + ": "
                        + Pkcs11Token.cause(e), e);
            }
        }

        @Override
        public CaSigner load(String label) {
            Pkcs11CaSigner signer = Pkcs11CaSigner.connect(token, label,
                    label.equals(defaultLabel) ? defaultChain : null, clock, reconnectInterval);
            try {
                CaCeremony.validateIssuerChain(signer.chain(), clock.instant());
            } catch (IllegalStateException e) {
                throw new CaUnavailableException("key '" + label + "' in " + token.describe() + ": " + e.getMessage(), e);
            }
            return signer;
        }
    }
}
