package dev.trent.tls;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import dev.trent.pki.DistinguishedNames;

/**
 * The CAs the TLS CertificateRequest names ({@code certificate_authorities}), chosen so that no
 * entry can break a handshake: a client parses every name in that list, and one it cannot read
 * (OpenSSL: "mstring wrong tag") aborts its handshake, whatever certificate it meant to send.
 *
 * <p>A candidate is kept only when its subject passes {@link DistinguishedNames#problem(byte[], boolean)}
 * (strict DER, every value one of the string types names use, at most 1 KiB; manufacturer CAs
 * passed the stricter per-attribute rules at registration); names are listed once, in the
 * order given (Trent's own CAs first); and the list stops at {@link #MAX_BYTES} encoded
 * (the JDK's client refuses handshake messages above 32 KiB by default, mbed TLS devices often
 * take 16 KiB or less), so that many registered CAs cannot break small clients either.
 */
final class ClientCaNames {

    /** The largest total of encoded names (with their two-byte length prefixes) listed. */
    static final int MAX_BYTES = 8 * 1024;

    private ClientCaNames() {
    }

    /** A candidate left out, and why. */
    record Skipped(X509Certificate certificate, String reason) {
    }

    record Selection(List<X509Certificate> named, List<Skipped> skipped) {
    }

    static Selection select(List<X509Certificate> candidates) {
        List<X509Certificate> named = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        int total = 0;
        for (X509Certificate c : candidates) {
            byte[] name = c.getSubjectX500Principal().getEncoded();
            String problem = DistinguishedNames.problem(name, false);
            if (problem != null) {
                skipped.add(new Skipped(c, problem));
                continue;
            }
            if (!seen.add(HexFormat.of().formatHex(name))) {
                continue; // the same name twice (a re-issued CA): one entry names both
            }
            if (total + name.length + 2 > MAX_BYTES) {
                skipped.add(new Skipped(c, "the CertificateRequest already names " + MAX_BYTES
                        + " bytes of CA names (the most listed, so that small clients can read it)"));
                continue;
            }
            total += name.length + 2;
            named.add(c);
        }
        return new Selection(List.copyOf(named), List.copyOf(skipped));
    }
}
