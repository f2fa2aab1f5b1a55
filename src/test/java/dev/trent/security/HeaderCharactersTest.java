package dev.trent.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.springframework.security.web.firewall.StrictHttpFirewall;

/** Trent's header character rules answer as Spring Security's own regular expressions do. */
class HeaderCharactersTest {

    /** Every code point alone, inside printable text, and unpaired surrogates; plus edge strings. */
    private static List<String> inputs() {
        List<String> inputs = new ArrayList<>();
        for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
            String one = new String(Character.toChars(cp));
            inputs.add(one);
            if (cp < 0x3000 || cp % 97 == 0) {
                inputs.add("Bearer a" + one + "b");
            }
        }
        inputs.add("");
        inputs.add("\uD800");                 // a lone high surrogate
        inputs.add("x\uDC00y");               // a lone low surrogate
        inputs.add("\uDC00\uD800");           // reversed pair
        inputs.add("a\tb");
        inputs.add("text/html, application/pkcs7-mime; q=0.9");
        inputs.add("Bearer " + "A".repeat(43));
        inputs.add("\u00e9t\u00e9 \u00ff");   // Latin-1 as Tomcat decodes header bytes
        return inputs;
    }

    private static void same(Predicate<String> ours, Predicate<String> theirs) {
        List<String> differing = new ArrayList<>();
        for (String s : inputs()) {
            if (ours.test(s) != theirs.test(s)) {
                differing.add(s.codePoints().mapToObj(Integer::toHexString).toList().toString());
            }
        }
        assertThat(differing).isEmpty();
    }

    @Test
    void headerNamesAsTheFirewall() {
        same(HeaderCharacters.NAMES, StrictHttpFirewall.ALLOWED_HEADER_NAMES);
        assertThat(HeaderCharacters.NAMES.test("a\tb")).isFalse();
        assertThat(HeaderCharacters.NAMES.test("Authorization")).isTrue();
    }

    @Test
    void headerValuesAsTheFirewall() {
        same(HeaderCharacters.VALUES, StrictHttpFirewall.ALLOWED_HEADER_VALUES);
        assertThat(HeaderCharacters.VALUES.test(null)).isTrue();
        assertThat(HeaderCharacters.VALUES.test("a\tb")).isTrue();
        assertThat(HeaderCharacters.VALUES.test("a\nb")).isFalse();
        assertThat(HeaderCharacters.VALUES.test("a\u0085b")).isFalse(); // NEL, a C1 control
        assertThat(HeaderCharacters.VALUES.test("a\u0378b")).isFalse();  // unassigned
    }

    @Test
    void parameterNamesAsTheFirewall() {
        same(HeaderCharacters.NAMES, StrictHttpFirewall.ALLOWED_PARAMETER_NAMES);
    }
}
