package dev.trent.ca;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.UnrecoverableKeyException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import dev.trent.pki.KeyIds;
import dev.trent.pki.Pem;
import dev.trent.pki.PrivateFiles;
import dev.trent.pki.Providers;
import dev.trent.profile.KeyType;

/**
 * The key ceremony: creating CA keys and certificates, and reading and writing the PKCS#12
 * files that hold them. Used by first-start bootstrap and by the {@code ca} CLI, so an operator
 * learns one set of files whichever way the CA was made.
 */
public final class CaCeremony {

    /** Alias of the key entry in Trent-written keystores. */
    public static final String ALIAS = "trent-ca";

    private final SecureRandom random;
    private final Clock clock;

    public CaCeremony(SecureRandom random, Clock clock) {
        this.random = random;
        this.clock = clock;
    }

    /** A key with its certificate chain (first = the key's certificate). */
    public record KeyAndChain(PrivateKey privateKey, List<X509Certificate> chain) {
        public KeyAndChain {
            chain = List.copyOf(chain);
        }

        public X509Certificate certificate() {
            return chain.get(0);
        }
    }

    public KeyPair generateKeyPair(KeyType type) {
        return generateKeyPair(type, null);
    }

    /**
     * A CA key pair made by {@code provider} (null: the JDK's default): for an HSM's provider the
     * key is generated inside the token and stays there.
     */
    public KeyPair generateKeyPair(KeyType type, java.security.Provider provider) {
        try {
            KeyPairGenerator gen = provider == null ? KeyPairGenerator.getInstance("EC")
                    : KeyPairGenerator.getInstance("EC", provider);
            switch (type) {
                case EC_P256 -> gen.initialize(new ECGenParameterSpec("secp256r1"), random);
                case EC_P384 -> gen.initialize(new ECGenParameterSpec("secp384r1"), random);
                default -> throw new IllegalArgumentException("CA keys must be EC_P256 or EC_P384, not " + type);
            }
            return gen.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate a CA key pair", e);
        }
    }

    /** A self-signed root: CA:true (critical), keyCertSign and cRLSign (critical), SKI. */
    public KeyAndChain createRoot(KeyType type, X500Name subject, Duration validity) {
        KeyPair keys = generateKeyPair(type);
        Instant now = clock.instant();
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, newSerial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(validity)), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(true))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            ext.createSubjectKeyIdentifier(keys.getPublic()));
            X509Certificate cert = sign(builder, keys.getPrivate(), keys.getPublic());
            return new KeyAndChain(keys.getPrivate(), List.of(cert));
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create the root certificate", e);
        }
    }

    /**
     * Signs an intermediate for {@code subjectKey} with the root: CA:true with pathLen 0
     * (critical), keyCertSign, cRLSign and digitalSignature (critical), SKI and AKI. Its
     * lifetime never exceeds the root's.
     */
    public X509Certificate signIntermediate(KeyAndChain root, X500Name subject, PublicKey subjectKey,
            Duration validity) {
        X509Certificate rootCert = root.certificate();
        Instant now = clock.instant();
        Instant notAfter = now.plus(validity);
        if (notAfter.isAfter(rootCert.getNotAfter().toInstant())) {
            notAfter = rootCert.getNotAfter().toInstant();
        }
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(rootCert, newSerial(),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(notAfter), subject, subjectKey)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign | KeyUsage.digitalSignature))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey))
                    .addExtension(Extension.authorityKeyIdentifier, false,
                            new AuthorityKeyIdentifier(KeyIds.subjectKeyId(rootCert)));
            return sign(builder, root.privateKey(), rootCert.getPublicKey());
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot sign the intermediate certificate", e);
        }
    }

    /** Root and intermediate in one go; the root key must then be stored apart from the service. */
    public record Hierarchy(KeyAndChain root, KeyAndChain intermediate) {
    }

    public Hierarchy createHierarchy(KeyType type, String organization, Duration rootValidity,
            Duration intermediateValidity) {
        String tag = HexFormat.of().formatHex(randomBytes(4));
        KeyAndChain root = createRoot(type, name(organization, organization + " Root CA " + tag), rootValidity);
        KeyPair intermediateKeys = generateKeyPair(type);
        X509Certificate intermediate = signIntermediate(root,
                name(organization, organization + " Intermediate CA " + tag), intermediateKeys.getPublic(), intermediateValidity);
        return new Hierarchy(root,
                new KeyAndChain(intermediateKeys.getPrivate(), List.of(intermediate, root.certificate())));
    }

    public static X500Name name(String organization, String commonName) {
        X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
        if (organization != null && !organization.isBlank()) {
            b.addRDN(BCStyle.O, organization);
        }
        b.addRDN(BCStyle.CN, commonName);
        return b.build();
    }

    /** A PKCS#10 request for a CA key, to be signed by an external (offline) root. */
    public PKCS10CertificationRequest createCsr(KeyPair keys, X500Name subject) {
        return createCsr(keys, subject, Providers.BC);
    }

    /** As {@link #createCsr(KeyPair, X500Name)}, signing with {@code provider} (an HSM's, for a key in it). */
    public PKCS10CertificationRequest createCsr(KeyPair keys, X500Name subject, java.security.Provider provider) {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SignatureAlgorithms.forKey(keys.getPublic()))
                    .setProvider(provider).build(keys.getPrivate());
            return new JcaPKCS10CertificationRequestBuilder(subject, keys.getPublic()).build(signer);
        } catch (OperatorCreationException e) {
            throw new IllegalStateException("cannot sign the CSR", e);
        }
    }

    /**
     * A short-lived self-signed placeholder certificate, so that a key waiting for its real
     * certificate can sit in a PKCS#12 key entry. Not CA, never used to issue.
     */
    public X509Certificate placeholder(KeyPair keys, X500Name subject) {
        return placeholder(keys, subject, Providers.BC);
    }

    /** As {@link #placeholder(KeyPair, X500Name)}, signing with {@code provider}. */
    public X509Certificate placeholder(KeyPair keys, X500Name subject, java.security.Provider provider) {
        Instant now = clock.instant();
        try {
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(subject, newSerial(),
                    Date.from(now), Date.from(now.plus(Duration.ofDays(30))), subject, keys.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            return sign(builder, keys.getPrivate(), keys.getPublic(), provider);
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot create the placeholder certificate", e);
        }
    }

    private X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey, PublicKey signingPublic)
            throws GeneralSecurityException {
        return sign(builder, signingKey, signingPublic, Providers.BC);
    }

    private X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signingKey, PublicKey signingPublic,
            java.security.Provider provider) throws GeneralSecurityException {
        try {
            ContentSigner signer = new JcaContentSignerBuilder(SignatureAlgorithms.forKey(signingPublic))
                    .setProvider(provider).build(signingKey);
            return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign", e);
        }
    }

    private BigInteger newSerial() {
        return new BigInteger(1, randomBytes(16)).setBit(0);
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    /** A random keystore password: 32 bytes, base64url, for keystores whose file stays owner-only. */
    public String newPassword() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(randomBytes(32));
    }

    /**
     * Adds or replaces one key entry in an existing keystore, keeping its other entries (the
     * keys of the next or former issuers), written atomically.
     *
     * @param replace false refuses an alias that exists
     */
    public static void putKeyEntry(Path file, char[] password, String alias, KeyAndChain entry, boolean replace)
            throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password);
            if (!replace && ks.containsAlias(alias)) {
                throw new IllegalArgumentException(file + " already holds '" + alias + "'; refusing to replace CA "
                        + "material (choose another --key-label)");
            }
            if (replace && !ks.isKeyEntry(alias)) {
                throw new IllegalArgumentException(file + " has no key entry '" + alias + "'");
            }
            ks.setKeyEntry(alias, entry.privateKey(), password, entry.chain().toArray(new X509Certificate[0]));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            ks.store(out, password);
            PrivateFiles.writePrivateFile(file, out.toByteArray());
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot update keystore " + file + ": " + e.getMessage(), e);
        }
    }

    public static void writeKeystore(Path file, KeyAndChain entry, char[] password) throws IOException {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry(ALIAS, entry.privateKey(), password, entry.chain().toArray(new X509Certificate[0]));
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            ks.store(out, password);
            PrivateFiles.writePrivateFile(file, out.toByteArray());
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot write keystore " + file, e);
        }
    }

    /**
     * Reads a key entry from a PKCS#12 file.
     *
     * @param alias the entry's alias, or null for the only key entry
     */
    /** A PKCS#12 file loaded, with errors that name the file and what is wrong. */
    public static KeyStore loadKeystore(Path file, char[] password) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try {
                ks.load(in, password);
            } catch (IOException e) {
                // The JDK reports a wrong password as an IOException with an UnrecoverableKeyException
                // cause, and names neither the file nor the fix.
                if (e.getCause() instanceof UnrecoverableKeyException) {
                    throw new IOException("cannot read keystore " + file + ": the password is wrong ("
                            + e.getMessage() + ")", e);
                }
                throw new IOException("cannot read keystore " + file + ": not a readable PKCS#12 file ("
                        + e.getMessage() + ")", e);
            }
            return ks;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read keystore " + file + ": " + e.getMessage(), e);
        }
    }

    public static KeyAndChain readKeystore(Path file, char[] password, String alias) throws IOException {
        try {
            KeyStore ks = loadKeystore(file, password);
            String chosen = alias;
            if (chosen == null || chosen.isBlank()) {
                List<String> keyAliases = new ArrayList<>();
                for (String a : java.util.Collections.list(ks.aliases())) {
                    if (ks.isKeyEntry(a)) {
                        keyAliases.add(a);
                    }
                }
                if (keyAliases.size() != 1) {
                    throw new IOException(file + " holds " + keyAliases.size()
                            + " key entries; set the alias (trent.ca.keystore.alias) to choose one");
                }
                chosen = keyAliases.get(0);
            }
            if (!ks.isKeyEntry(chosen)) {
                throw new IOException(file + " has no key entry with alias '" + chosen + "'");
            }
            PrivateKey key = (PrivateKey) ks.getKey(chosen, password);
            List<X509Certificate> chain = new ArrayList<>();
            for (java.security.cert.Certificate c : ks.getCertificateChain(chosen)) {
                chain.add((X509Certificate) c);
            }
            return new KeyAndChain(key, chain);
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read keystore " + file + ": " + e.getMessage(), e);
        }
    }

    public static List<X509Certificate> readCertificates(Path pemFile) throws IOException {
        try (InputStream in = Files.newInputStream(pemFile)) {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            List<X509Certificate> certs = new ArrayList<>();
            for (java.security.cert.Certificate c : cf.generateCertificates(in)) {
                certs.add((X509Certificate) c);
            }
            return certs;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot read certificates from " + pemFile, e);
        }
    }

    public static void writeCertificates(Path file, List<X509Certificate> certs) throws IOException {
        PrivateFiles.writePublicFile(file, Pem.certificates(certs));
    }

    // ---- checks --------------------------------------------------------------------------

    /**
     * Checks that a key and chain can serve as Trent's issuing CA: the key matches the first
     * certificate, that certificate is a CA allowed to sign certificates, each certificate is
     * signed by the next, and the chain ends at a self-signed root.
     *
     * @throws IllegalStateException naming the first problem found
     */
    public static void validateIssuer(KeyAndChain issuer, Instant now) {
        validateIssuerChain(issuer.chain(), now);
        if (!keyMatches(issuer.privateKey(), issuer.certificate().getPublicKey())) {
            throw new IllegalStateException("the private key does not match the issuer certificate");
        }
    }

    /** {@link #validateIssuer} without the key check, for a key that only its HSM can use. */
    public static void validateIssuerChain(List<X509Certificate> chain, Instant now) {
        if (chain.isEmpty()) {
            throw new IllegalStateException("the issuer has no certificate");
        }
        X509Certificate cert = chain.get(0);
        try {
            cert.checkValidity(Date.from(now));
        } catch (java.security.cert.CertificateExpiredException | java.security.cert.CertificateNotYetValidException e) {
            throw new IllegalStateException("the issuer certificate " + cert.getSubjectX500Principal()
                    + " is not valid now (valid from " + cert.getNotBefore().toInstant() + " to "
                    + cert.getNotAfter().toInstant() + ")", e);
        }
        if (cert.getBasicConstraints() < 0) {
            throw new IllegalStateException("the issuer certificate " + cert.getSubjectX500Principal()
                    + " is not a CA certificate (basicConstraints CA:true is missing)");
        }
        boolean[] ku = cert.getKeyUsage();
        if (ku != null && !ku[5]) {
            throw new IllegalStateException("the issuer certificate's key usage lacks keyCertSign");
        }
        for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            X509Certificate signer = i + 1 < chain.size() ? chain.get(i + 1) : c;
            if (!c.getIssuerX500Principal().equals(signer.getSubjectX500Principal())) {
                throw new IllegalStateException("the chain is incomplete: " + c.getSubjectX500Principal()
                        + " is issued by " + c.getIssuerX500Principal()
                        + (i + 1 < chain.size() ? ", not by the next certificate"
                                : ", which is missing (the chain must end at the self-signed root)"));
            }
            try {
                c.verify(signer.getPublicKey());
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("the signature on " + c.getSubjectX500Principal()
                        + " does not verify with its issuer's key", e);
            }
        }
    }

    static boolean keyMatches(PrivateKey privateKey, PublicKey publicKey) {
        try {
            String alg = SignatureAlgorithms.forKey(publicKey);
            byte[] probe = "trent key match probe".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg, Providers.BC);
            s.initSign(privateKey);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg, Providers.BC);
            v.initVerify(publicKey);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }
}
