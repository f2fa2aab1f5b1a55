package dev.trent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md names every {@code trent.*} property that
 * {@link TrentProperties} binds (walked by reflection, so a new setting without documentation
 * fails here).
 */
class ConfigurationReferenceTest {

    /** Every leaf property under {@code prefix} of the record type. */
    private static void walk(Class<?> type, String prefix, List<String> out) {
        for (RecordComponent c : type.getRecordComponents()) {
            String name = prefix + "." + kebab(c.getName());
            Class<?> t = c.getType();
            if (t.isRecord()) {
                walk(t, name, out);
            } else if (Map.class.isAssignableFrom(t)) {
                Type value = ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[1];
                if (value instanceof Class<?> v && v.isRecord()) {
                    walk(v, name + ".<name>", out);
                } else {
                    out.add(name);
                }
            } else {
                out.add(name);
            }
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    @Test
    void referenceWhenReadThenEveryBoundPropertyIsInIt() throws IOException {
        String reference = Files.readString(Path.of("docs/configuration.md"));
        List<String> properties = new ArrayList<>();
        walk(TrentProperties.class, "trent", properties);
        assertThat(properties).as("the walk found the settings").hasSizeGreaterThan(40).contains("trent.tls.port",
                "trent.profiles.<name>.validity", "trent.audit.checkpoint-interval");

        List<String> missing = properties.stream().filter(p -> !reference.contains("`" + p + "`")).toList();
        assertThat(missing).as("properties missing from docs/configuration.md").isEmpty();
    }
}
