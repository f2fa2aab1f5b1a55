package dev.trent.issuance;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * DNS names as they may appear in a dNSName SAN: LDH labels of 1 to 63 characters, 253 in all,
 * no wildcards, no trailing dot, lower case. Single labels ({@code localhost}, a gateway's
 * short name on a private network) are allowed: this is a private CA.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.6">RFC 5280, 4.2.1.6</a>
 */
public final class DnsNames {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private DnsNames() {
    }

    /** Lower-cases (in the root locale) and trims; validity is checked separately. */
    public static String normalize(String name) {
        return name == null ? null : name.strip().toLowerCase(Locale.ROOT);
    }

    public static boolean isValid(String name) {
        if (name == null || name.isEmpty() || name.length() > 253) {
            return false;
        }
        String[] labels = name.split("\\.", -1);
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                return false;
            }
        }
        // An all-numeric top label would make it look like an IP address.
        return !labels[labels.length - 1].chars().allMatch(Character::isDigit);
    }
}
