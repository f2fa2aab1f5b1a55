package dev.trent.readme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * README.md is the front door: the two commands with what they need up front, and every
 * reference file it links exists. (The walkthrough itself runs in {@link WalkthroughIT}.)
 */
class ReadmeTest {

    private static final Pattern CI_PACKAGE = Pattern.compile("need\\+=\\(([^)]+)\\)");
    private static final Pattern APT_INSTALL = Pattern.compile("apt-get install ([a-z0-9. +-]+)");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)#:]+\\.md)(#[^)]*)?\\)");

    @Test
    void readmeWhenListingTestPrerequisitesThenNamesEveryPackageCiInstalls() throws IOException {
        Set<String> ci = new TreeSet<>();
        Matcher m = CI_PACKAGE.matcher(read(".ci/run"));
        while (m.find()) {
            ci.addAll(Arrays.asList(m.group(1).strip().split("\\s+")));
        }
        ci.removeIf(p -> p.startsWith("openjdk-"));
        assertThat(ci).as("packages .ci/run installs").contains("openssl", "softhsm2", "python3", "curl");

        Matcher apt = APT_INSTALL.matcher(read("README.md"));
        assertThat(apt.find()).as("README.md gives the apt-get install line").isTrue();
        List<String> readme = Arrays.asList(apt.group(1).strip().split("\\s+"));
        assertThat(readme).as("README.md's prerequisites for ./mvnw verify").containsAll(ci);
        assertThat(read("README.md").indexOf(apt.group())).as("the prerequisites come before the walkthrough")
                .isLessThan(read("README.md").indexOf("## Walkthrough"));
    }

    @Test
    void ciWhenRunningTheTestsThenRunsTheCommandReadmeGives() throws IOException {
        List<String> ci = read(".ci/run").lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
        String command = ci.get(ci.size() - 1);
        assertThat(command).isEqualTo("./mvnw verify");
        String twoCommands = read("README.md").split("\n## Two commands\n", 2)[1].split("\n## ", 2)[0];
        assertThat(twoCommands).as("README.md's test command").containsPattern("(?m)^" + Pattern.quote(command) + "\\s+#");
    }

    @Test
    void readmeWhenLinkingReferenceFilesThenEachExistsAndIsShort() throws IOException {
        String readme = read("README.md");
        Matcher m = LINK.matcher(readme);
        Set<String> linked = new TreeSet<>();
        while (m.find()) {
            linked.add(m.group(1));
        }
        assertThat(linked).contains("docs/configuration.md", "docs/api.md", "docs/revocation.md");
        for (String file : linked) {
            assertThat(Path.of(file)).as("README.md links " + file).isRegularFile();
        }
        assertThat(readme.lines().count()).as("README.md stays a front door").isLessThan(200);
    }

    @Test
    void docsWhenLinkingThenEveryLinkedFileAndHeadingExists() throws IOException {
        List<Path> pages = new java.util.ArrayList<>(List.of(Path.of("README.md"), Path.of("bench/README.md")));
        try (var docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        Pattern link = Pattern.compile("\\]\\(([^)\\s]+)\\)");
        List<String> broken = new java.util.ArrayList<>();
        for (Path page : pages) {
            Matcher m = link.matcher(Files.readString(page, StandardCharsets.UTF_8));
            while (m.find()) {
                String target = m.group(1);
                if (target.startsWith("http://") || target.startsWith("https://")) {
                    continue;
                }
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                Path linked = file.isEmpty() ? page : page.toAbsolutePath().getParent().resolve(file).normalize();
                if (!Files.exists(linked)) {
                    broken.add(page + ": " + target);
                } else if (hash >= 0 && !anchors(linked).contains(target.substring(hash + 1))) {
                    broken.add(page + ": " + target + " (no such heading)");
                }
            }
        }
        assertThat(broken).as("links to files or headings that do not exist").isEmpty();
    }

    /** GitHub's anchors of a Markdown file's headings (outside code blocks). */
    private static Set<String> anchors(Path markdown) throws IOException {
        Set<String> anchors = new TreeSet<>();
        boolean code = false;
        for (String line : Files.readAllLines(markdown, StandardCharsets.UTF_8)) {
            if (line.startsWith("```")) {
                code = !code;
            } else if (!code && line.matches("#{1,6} .*")) {
                anchors.add(line.replaceFirst("#+ ", "").strip().toLowerCase(java.util.Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N}_\\- ]", "").replace(' ', '-'));
            }
        }
        return anchors;
    }

    private static String read(String file) throws IOException {
        return Files.readString(Path.of(file), StandardCharsets.UTF_8);
    }
}
