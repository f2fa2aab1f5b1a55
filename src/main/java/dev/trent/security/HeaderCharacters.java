package dev.trent.security;

import java.util.function.Predicate;

/**
 * The characters {@link org.springframework.security.web.firewall.StrictHttpFirewall} allows in
 * header names, header values and parameter names, decided by a loop over the code points
 * instead of the firewall's regular expressions ({@code [\p{IsAssigned}&&[^\p{IsControl}]]*},
 * for values with tab also allowed). Same answers for every string (HeaderCharactersTest
 * compares both over every code point and unpaired surrogates); measured: the regular
 * expressions took 6-7% of an enrollment request's Java CPU samples (bench/README.md), since
 * every header a controller reads is checked again on each read.
 */
final class HeaderCharacters {

    /** Header names and parameter names: every code point assigned and not a control character. */
    static final Predicate<String> NAMES = s -> allowed(s, false);

    /** Header values: as names, and a tab is allowed; a missing value (null) passes. */
    static final Predicate<String> VALUES = s -> s == null || allowed(s, true);

    private HeaderCharacters() {
    }

    private static boolean allowed(String s, boolean tab) {
        int n = s.length();
        for (int i = 0; i < n; ) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) { // printable ASCII: assigned, never a control character
                i++;
                continue;
            }
            int cp = s.codePointAt(i);
            int type = Character.getType(cp);
            if (type == Character.UNASSIGNED || type == Character.CONTROL && !(tab && cp == '\t')) {
                return false;
            }
            i += Character.charCount(cp);
        }
        return true;
    }
}
