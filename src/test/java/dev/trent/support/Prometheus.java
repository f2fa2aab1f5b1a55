package dev.trent.support;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads samples from the Prometheus text exposition format, by name and exact label set. */
public final class Prometheus {

    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final String text;

    public Prometheus(String text) {
        this.text = text;
    }

    /** The sample named {@code name} whose labels are exactly {@code labels}; NaN when there is none. */
    public double value(String name, Map<String, String> labels) {
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || !line.startsWith(name)) {
                continue;
            }
            String rest = line.substring(name.length());
            Map<String, String> found = new LinkedHashMap<>();
            if (rest.startsWith("{")) {
                int end = rest.lastIndexOf('}');
                Matcher m = LABEL.matcher(rest.substring(1, end));
                while (m.find()) {
                    found.put(m.group(1), m.group(2));
                }
                rest = rest.substring(end + 1);
            } else if (!rest.startsWith(" ")) {
                continue; // another metric whose name starts with this one
            }
            if (found.equals(labels)) {
                return Double.parseDouble(rest.strip().split(" ")[0]);
            }
        }
        return Double.NaN;
    }

    public String text() {
        return text;
    }
}
