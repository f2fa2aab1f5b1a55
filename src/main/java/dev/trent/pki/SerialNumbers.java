package dev.trent.pki;

import java.math.BigInteger;
import java.security.SecureRandom;

/**
 * Certificate serial numbers: 16 bytes from a CSPRNG read as a positive integer, so at most 17
 * octets when DER-encoded (RFC 5280 allows 20), never zero, never from time or a counter.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.2">RFC 5280, 4.1.2.2</a>
 */
public final class SerialNumbers {

    private final SecureRandom random;

    public SerialNumbers(SecureRandom random) {
        this.random = random;
    }

    public BigInteger next() {
        byte[] bytes = new byte[16];
        BigInteger serial;
        do {
            random.nextBytes(bytes);
            serial = new BigInteger(1, bytes);
        } while (serial.signum() == 0);
        return serial;
    }

    /** The canonical text form used in URLs and the database: lower-case hex, no leading zeros. */
    public static String toHex(BigInteger serial) {
        return serial.toString(16);
    }

    /**
     * Parses a serial as given in a URL: hex, optionally with colons (as openssl prints them),
     * case-insensitive.
     *
     * @return the canonical form, or null when the text is not a serial
     */
    public static String canonical(String text) {
        if (text == null) {
            return null;
        }
        String hex = text.replace(":", "");
        if (hex.isEmpty() || hex.length() > 40 || !hex.chars().allMatch(c -> c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
            return null;
        }
        return new BigInteger(hex, 16).toString(16);
    }
}
