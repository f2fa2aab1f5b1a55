package dev.trent.tls;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ssl.pem.PemContent;

import dev.trent.pki.Pem;

/**
 * The key and chain of the HTTPS certificate Trent issued itself, kept for the next start:
 * {@code <data-dir>/tls/key.pem} (PKCS#8, owner-only, in an owner-only directory) and
 * {@code chain.pem} (leaf, then the issuer). Read with Spring Boot's {@link PemContent}.
 * Whether they may serve again is {@link TlsServer}'s decision.
 */
final class TlsKeyFiles {

    private static final Logger log = LoggerFactory.getLogger(TlsKeyFiles.class);

    record Kept(PrivateKey key, List<X509Certificate> chain) {
    }

    private final Path dir;

    TlsKeyFiles(Path dir) {
        this.dir = dir;
    }

    Path directory() {
        return dir;
    }

    /** The kept key and chain; empty when there are none, or when they cannot be read (logged). */
    Optional<Kept> read() {
        Path key = dir.resolve("key.pem");
        Path chain = dir.resolve("chain.pem");
        if (!Files.exists(key) || !Files.exists(chain)) {
            return Optional.empty();
        }
        try {
            PrivateKey privateKey = PemContent.load(key).getPrivateKey();
            List<X509Certificate> certs = PemContent.load(chain).getCertificates();
            if (privateKey == null || certs.isEmpty()) {
                log.warn("Ignoring the kept HTTPS key and certificate in {}: a file holds no key or no certificate", dir);
                return Optional.empty();
            }
            return Optional.of(new Kept(privateKey, certs));
        } catch (IOException | RuntimeException e) {
            log.warn("Ignoring the kept HTTPS key and certificate in {}: {}", dir, e.getMessage());
            return Optional.empty();
        }
    }

    /** Replaces the kept key and chain (each file written atomically; the chain last). */
    void write(PrivateKey key, List<X509Certificate> chain) throws IOException {
        dev.trent.pki.PrivateFiles.createPrivateDirectory(dir);
        dev.trent.pki.PrivateFiles.writePrivateFile(dir.resolve("key.pem"),
                Pem.encode("PRIVATE KEY", key.getEncoded()).getBytes(StandardCharsets.US_ASCII));
        dev.trent.pki.PrivateFiles.writePrivateFile(dir.resolve("chain.pem"), Pem.certificates(chain).getBytes(StandardCharsets.US_ASCII));
    }

    /** The certificate's DNS names and IP addresses, normalized as {@link #normalized} does. */
    static Set<String> names(X509Certificate cert) {
        List<String> all = new java.util.ArrayList<>();
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    int type = (Integer) san.get(0);
                    if (type == 2 || type == 7) { // dNSName, iPAddress (RFC 5280 4.2.1.6)
                        all.add(san.get(1).toString());
                    }
                }
            }
        } catch (CertificateParsingException e) {
            return Set.of();
        }
        return normalized(all);
    }

    /** Lower-case DNS names and canonical IP address text ({@code ::1} and {@code 0:0:0:0:0:0:0:1} alike). */
    static Set<String> normalized(Collection<String> names) {
        Set<String> out = new TreeSet<>();
        for (String n : names) {
            out.add(isIpLiteral(n) ? canonicalIp(n) : n.toLowerCase(Locale.ROOT));
        }
        return out;
    }

    private static boolean isIpLiteral(String s) {
        return s.matches("[0-9.]+") || s.contains(":");
    }

    private static String canonicalIp(String literal) {
        try {
            return InetAddress.getByName(literal).getHostAddress(); // a literal: no name lookup
        } catch (java.net.UnknownHostException e) {
            return literal;
        }
    }
}
