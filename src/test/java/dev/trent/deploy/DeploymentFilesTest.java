package dev.trent.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * What can be checked of the deployment files without a Docker engine: {@code docker-compose.yml}
 * parses and wires what docs/deployment.md promises, the {@code Dockerfile} builds a non-root
 * image with a health check and no secrets in it, every variable the files use is documented in
 * README.md or docs/, and the SoftHSM entrypoint script is valid bash.
 */
class DeploymentFilesTest {

    private static final Path ROOT = Path.of("").toAbsolutePath();
    private static final Path ENTRYPOINT = ROOT.resolve("docker/trent-hsm-entrypoint.sh");
    private static final Pattern TRENT_OR_SPRING_VARIABLE = Pattern.compile("\\b((?:TRENT|SPRING)_[A-Z0-9_]+)\\b");
    /** ${VAR}, ${VAR:-default}, ${VAR?err} ... and bare $VAR; "$$" is compose's escape for "$". */
    private static final Pattern COMPOSE_INTERPOLATION =
            Pattern.compile("(?<!\\$)\\$(?:\\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))");

    private static String composeText;
    private static Map<String, Object> compose;
    private static Dockerfile dockerfile;
    /** README.md and every reference file under docs/, one after the other. */
    private static String readme;
    /** docs/deployment.md. */
    private static String deployment;

    @BeforeAll
    static void readFiles() throws IOException {
        composeText = read("docker-compose.yml");
        compose = new Yaml().load(composeText);
        dockerfile = Dockerfile.parse(read("Dockerfile"));
        deployment = read("docs/deployment.md");
        StringBuilder all = new StringBuilder(read("README.md"));
        try (var docs = Files.list(ROOT.resolve("docs"))) {
            for (Path doc : docs.filter(d -> d.toString().endsWith(".md")).sorted().toList()) {
                all.append('\n').append(Files.readString(doc, StandardCharsets.UTF_8));
            }
        }
        readme = all.toString();
    }

    // ---- docker-compose.yml ---------------------------------------------------------------------------

    @Test
    void composeWhenParsedThenHasPostgresTrentAndTrentHsmInTheHsmProfile() {
        assertThat(services()).containsKeys("postgres", "trent", "trent-hsm");
        assertThat(service("trent")).as("trent runs in the default profile").doesNotContainKey("profiles");
        assertThat(service("postgres")).doesNotContainKey("profiles");
        assertThat(list(service("trent-hsm").get("profiles"))).containsExactly("hsm");
    }

    @Test
    void postgresWhenComposedThenCurrentMajorWithHealthCheckAndNamedVolume() {
        Map<String, Object> pg = service("postgres");
        Matcher image = Pattern.compile("postgres:(\\d+)(?:[.-].*)?").matcher(String.valueOf(pg.get("image")));
        assertThat(image.matches()).as("image %s is postgres:<major>", pg.get("image")).isTrue();
        assertThat(Integer.parseInt(image.group(1))).isGreaterThanOrEqualTo(16);
        assertThat(map(pg.get("healthcheck")).get("test")).as("postgres health check").isNotNull();
        assertThat(namedVolumeAt("postgres", "/var/lib/postgresql/data")).isNotNull();
        assertThat(environment("postgres")).containsKey("POSTGRES_PASSWORD_FILE")
                .doesNotContainKey("POSTGRES_PASSWORD");
    }

    @Test
    void trentServicesWhenComposedThenBuiltFromTheDockerfileStages() {
        for (String name : List.of("trent", "trent-hsm")) {
            Map<String, Object> build = map(service(name).get("build"));
            Path context = ROOT.resolve(String.valueOf(build.get("context"))).normalize();
            String file = String.valueOf(build.getOrDefault("dockerfile", "Dockerfile"));
            assertThat(context.resolve(file).normalize()).as(name + " builds from the repository's Dockerfile")
                    .isEqualTo(ROOT.resolve("Dockerfile"));
            assertThat(dockerfile.stageNames()).as(name + " target").contains(String.valueOf(build.get("target")));
            assertThat(map(map(service(name).get("depends_on")).get("postgres")).get("condition"))
                    .isEqualTo("service_healthy");
        }
        assertThat(map(service("trent-hsm").get("build")).get("target")).isEqualTo("softhsm");
    }

    @Test
    void trentServicesWhenComposedThenDataInNamedVolumesAndNoSharedHostPorts() {
        String dataDir = dockerfile.effectiveEnv("runtime").get("TRENT_DATA_DIR");
        assertThat(dataDir).isEqualTo("/var/lib/trent");
        assertThat(dockerfile.effectiveVolumes("runtime")).contains(dataDir);
        String trentData = namedVolumeAt("trent", dataDir);
        String hsmData = namedVolumeAt("trent-hsm", dataDir);
        assertThat(trentData).isNotNull();
        assertThat(hsmData).isNotNull().isNotEqualTo(trentData);

        Set<String> trentPorts = hostPorts("trent");
        assertThat(trentPorts).contains("8080", "8443");
        assertThat(hostPorts("trent-hsm")).hasSize(2).doesNotContainAnyElementsOf(trentPorts);
        // Two CAs, two databases: they must not share one schema.
        assertThat(environment("trent-hsm").get("SPRING_DATASOURCE_URL"))
                .isNotEqualTo(environment("trent").get("SPRING_DATASOURCE_URL"));
    }

    @Test
    void trentHsmWhenComposedThenTokenDirectoryIsANamedVolumeAndItsDatabaseIsCreated() throws IOException {
        Matcher tokendir = Pattern.compile("(?m)^\\s*directories\\.tokendir\\s*=\\s*(\\S+)\\s*$")
                .matcher(read("docker/softhsm2.conf"));
        assertThat(tokendir.find()).as("docker/softhsm2.conf names the token directory").isTrue();
        assertThat(namedVolumeAt("trent-hsm", tokendir.group(1))).isNotNull()
                .isNotEqualTo(namedVolumeAt("trent-hsm", "/var/lib/trent"));
        assertThat(dockerfile.effectiveVolumes("softhsm")).contains(tokendir.group(1));

        String url = environment("trent-hsm").get("SPRING_DATASOURCE_URL");
        String database = url.substring(url.lastIndexOf('/') + 1);
        String initDir = hostPathMountedAt("postgres", "/docker-entrypoint-initdb.d");
        assertThat(initDir).as("postgres mounts an init directory").isNotNull();
        StringBuilder scripts = new StringBuilder();
        try (var files = Files.list(ROOT.resolve(initDir).normalize())) {
            for (Path f : files.filter(p -> p.toString().endsWith(".sql")).toList()) {
                scripts.append(Files.readString(f, StandardCharsets.UTF_8)).append('\n');
            }
        }
        assertThat(scripts.toString()).containsIgnoringCase("CREATE DATABASE " + database + ";");
    }

    @Test
    void composeWhenSecretsUsedThenEachIsDeclaredAsAFileUnderSecretsAndMountedWhereItIsNamed() {
        Map<String, Object> declared = map(compose.get("secrets"));
        for (Map.Entry<String, Object> s : services().entrySet()) {
            Map<String, String> targets = secretTargets(s.getKey());
            for (String source : targets.values()) {
                assertThat(declared).as("secret %s of %s", source, s.getKey()).containsKey(source);
                String file = String.valueOf(map(declared.get(source)).get("file"));
                assertThat(file).as("secret " + source).startsWith("./secrets/");
                assertThat(deployment).as("docs/deployment.md says how to create " + file)
                        .contains(file.substring(2));
            }
            // Every /run/secrets/... that an environment value names is a secret of that service.
            for (Map.Entry<String, String> e : environment(s.getKey()).entrySet()) {
                if (e.getValue() != null && e.getValue().startsWith("/run/secrets/")) {
                    assertThat(targets).as("%s=%s in %s", e.getKey(), e.getValue(), s.getKey())
                            .containsKey(e.getValue());
                }
            }
        }
        // Spring reads these two from /run/secrets (spring.config.import=configtree in the image).
        for (String name : List.of("trent", "trent-hsm")) {
            assertThat(secretTargets(name)).containsKeys("/run/secrets/spring.datasource.password",
                    "/run/secrets/trent.bootstrap-admin-token");
        }
        assertThat(dockerfile.effectiveEnv("runtime").get("SPRING_CONFIG_IMPORT"))
                .isEqualTo("optional:configtree:/run/secrets/");
    }

    @Test
    void composeWhenInterpolatingThenEveryVariableIsDocumented() {
        Set<String> variables = new TreeSet<>();
        Matcher m = COMPOSE_INTERPOLATION.matcher(withoutYamlComments(composeText));
        while (m.find()) {
            variables.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        assertThat(variables).as("the compose file interpolates the public base URLs").isNotEmpty();
        assertThat(undocumented(variables)).as("interpolated variables missing from README.md and docs/").isEmpty();
    }

    @Test
    void deploymentFilesWhenSettingTrentOrSpringVariablesThenEachIsDocumented() throws IOException {
        Set<String> variables = new TreeSet<>();
        for (String service : services().keySet()) {
            environment(service).keySet().stream().filter(k -> TRENT_OR_SPRING_VARIABLE.matcher(k).matches())
                    .forEach(variables::add);
        }
        for (String stage : dockerfile.stageNames()) {
            dockerfile.effectiveEnv(stage).keySet().stream()
                    .filter(k -> TRENT_OR_SPRING_VARIABLE.matcher(k).matches()).forEach(variables::add);
        }
        Matcher m = TRENT_OR_SPRING_VARIABLE.matcher(Files.readString(ENTRYPOINT, StandardCharsets.UTF_8));
        while (m.find()) {
            variables.add(m.group(1));
        }
        assertThat(variables).contains("TRENT_DATA_DIR", "TRENT_HSM_SO_PIN_FILE", "SPRING_CONFIG_IMPORT");
        assertThat(undocumented(variables)).as("variables missing from README.md and docs/").isEmpty();
        assertThat(readme).contains("`SOFTHSM2_CONF`");
    }

    // ---- Dockerfile -----------------------------------------------------------------------------------

    @Test
    void dockerfileWhenParsedThenMultiStageJreOnlyNonRootWithHealthCheck() {
        assertThat(dockerfile.stages()).hasSizeGreaterThanOrEqualTo(2);
        assertThat(dockerfile.stages().get(0).from()).contains("jdk");
        String lastStage = dockerfile.stages().get(dockerfile.stages().size() - 1).name();
        for (String target : List.of("runtime", "softhsm", lastStage)) {
            String user = dockerfile.effectiveUser(target);
            assertThat(user).as("USER of target " + target).isNotNull()
                    .isNotIn("root", "0", "root:root", "0:0").doesNotStartWith("0:").doesNotStartWith("root:");
            assertThat(dockerfile.externalBase(target)).as("base image of " + target).contains("-jre");
            String health = dockerfile.effective(target, "HEALTHCHECK");
            assertThat(health).as("HEALTHCHECK of " + target).isNotNull()
                    .contains("http://localhost:8080/actuator/health/liveness");
            String tool = health.replaceFirst("(?s).*\\bCMD\\s+", "").split("\\s+")[0];
            assertThat(dockerfile.chain(target).stream().flatMap(s -> s.instructions().stream())
                    .anyMatch(i -> i.keyword().equals("RUN") && i.args().matches("(?s).*apt-get install.*\\b"
                            + Pattern.quote(tool) + "\\b.*")))
                    .as("the health check's %s is installed in %s", tool, target).isTrue();
            assertThat(dockerfile.effective(target, "EXPOSE")).contains("8080").contains("8443");
        }
        // java -jar: the manifest's Add-Opens (PKCS#11 signer) is honoured only then.
        assertThat(dockerfile.effective("runtime", "ENTRYPOINT")).contains("\"java\"").contains("\"-jar\"");
        assertThat(dockerfile.effective("softhsm", "CMD")).contains("\"java\"").contains("\"-jar\"");
        // The collector and C2's inlining limits bench/README.md measured for two cores, in the
        // variable operators replace (a second collector flag on the command line would stop the
        // JVM: "multiple collectors").
        for (String target : List.of("runtime", "softhsm")) {
            assertThat(dockerfile.effectiveEnv(target)).containsEntry("JDK_JAVA_OPTIONS",
                    "-XX:+UseParallelGC -XX:InlineSmallCode=1000 -XX:FreqInlineSize=150");
            assertThat(dockerfile.effective(target, "runtime".equals(target) ? "ENTRYPOINT" : "CMD"))
                    .doesNotContain("GC");
        }
    }

    @Test
    void dockerfileWhenBuiltThenTheAotCacheIsMadeByTheRuntimesOwnJvmAndUsedByBothTargets() {
        // The cache is JDK 25's (JEP 483/514): the runtime image is a JRE 25 or newer.
        Matcher jre = Pattern.compile("eclipse-temurin:(\\d+)-jre").matcher(dockerfile.externalBase("runtime"));
        assertThat(jre.find()).as(dockerfile.externalBase("runtime")).isTrue();
        assertThat(Integer.parseInt(jre.group(1))).isGreaterThanOrEqualTo(25);
        // Classes go into a cache only from plain jars: the build extracts the Spring Boot jar, and
        // the runtime's /opt/trent/trent.jar is the extracted one (its libraries in lib/ beside it).
        assertThat(dockerfile.stage("build").instructions()).anyMatch(i -> i.keyword().equals("RUN")
                && i.args().matches("(?s).*java -Djarmode=tools -jar /trent\\.jar extract --destination /trent\\b.*"));
        assertThat(dockerfile.chain("runtime").stream().flatMap(s -> s.instructions().stream()))
                .anyMatch(i -> i.keyword().equals("COPY") && i.args().equals("--from=build /trent/ /opt/trent/"));
        // Trained by the same JVM, with the same files and options, as the targets run: a JVM uses a
        // cache only if it made one like it. Not as root.
        Stage training = dockerfile.stage("training");
        assertThat(training.from()).isEqualTo(dockerfile.stage("base").from());
        assertThat(dockerfile.effectiveUser("training")).isNotNull().isNotIn("root", "0", "root:root", "0:0");
        String train = training.instructions().stream().filter(i -> i.keyword().equals("RUN")).map(Instruction::args)
                .reduce((a, b) -> b).orElseThrow();
        Matcher output = Pattern.compile("-XX:AOTCacheOutput=(\\S+)").matcher(train);
        assertThat(output.find()).as(train).isTrue();
        // A fixed heap under 32 GB: compressed pointers on, as in any container of usual size.
        assertThat(train).startsWith("java -Xmx1g ").endsWith("-jar /opt/trent/trent.jar train");
        // Classes only, no method profiles: with profiles, JDK 25.0.3's C2 policy cost a fifth of the
        // steady rate on two cores (JDK-8386852; bench/README.md, "The load generator, and cfssl's PostgreSQL").
        assertThat(train.replaceAll("\\s+", " ")).contains(" -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining ");
        assertThat(dockerfile.stage("base").instructions()).as("the cache copied into the targets' image")
                .contains(new Instruction("COPY", "--from=training " + output.group(1) + " /opt/trent/trent.aot"));
        assertThat(dockerfile.effective("runtime", "ENTRYPOINT").replaceAll("\\s+", " ")).isEqualTo("[\"java\", \"-XX:MaxRAMPercentage=75\", "
                + "\"-XX:AOTCache=/opt/trent/trent.aot\", \"-Xlog:aot=error,aot+codecache+stubs=error\", \"-jar\", "
                + "\"/opt/trent/trent.jar\"]");
        assertThat(dockerfile.effective("softhsm", "CMD")).isEqualTo(dockerfile.effective("runtime", "ENTRYPOINT"));
        assertThat(dockerfile.effectiveEnv("training")).isEqualTo(dockerfile.effectiveEnv("runtime"));
    }

    @Test
    void dockerfileWhenCopyingThenNoSecretsAndEverySourceExists() throws IOException {
        for (Stage stage : dockerfile.stages()) {
            for (Instruction i : stage.instructions()) {
                if (!(i.keyword().equals("COPY") || i.keyword().equals("ADD")) || i.args().contains("--from=")) {
                    continue;
                }
                List<String> words = new ArrayList<>(List.of(i.args().trim().split("\\s+")));
                words.removeIf(w -> w.startsWith("--"));
                for (String source : words.subList(0, words.size() - 1)) {
                    String s = source.replaceFirst("^\\./", "");
                    assertThat(s).as("%s %s", i.keyword(), i.args()).doesNotStartWith("secrets").isNotEqualTo(".");
                    assertThat(ROOT.resolve(s)).as("source of %s %s", i.keyword(), i.args()).exists();
                }
            }
            // No secret values in the image's environment: only files or nothing.
            for (String key : stage.env().keySet()) {
                assertThat(key).as("ENV in stage " + stage.name())
                        .doesNotEndWith("PASSWORD").doesNotEndWith("_PIN").doesNotEndWith("TOKEN").doesNotEndWith("SECRET");
            }
        }
        assertThat(lines(".dockerignore")).contains("secrets/", ".git");
        assertThat(lines(".gitignore")).contains("secrets/");
    }

    @Test
    void softhsmTargetWhenBuiltThenSoftHsm2ConfiguredAndTheEntrypointCopiedIn() {
        Map<String, String> env = dockerfile.effectiveEnv("softhsm");
        assertThat(env).containsEntry("TRENT_CA_SIGNER", "pkcs11").containsKeys("TRENT_CA_PKCS11_LIBRARY",
                "TRENT_CA_PKCS11_TOKEN_LABEL", "SOFTHSM2_CONF");
        List<String> copies = dockerfile.chain("softhsm").stream().flatMap(s -> s.instructions().stream())
                .filter(i -> i.keyword().equals("COPY")).map(Instruction::args).toList();
        assertThat(copies).as("the SoftHSM2 configuration is copied where SOFTHSM2_CONF points")
                .anyMatch(c -> c.matches("(?:--\\S+\\s+)*docker/softhsm2\\.conf\\s+" + Pattern.quote(env.get("SOFTHSM2_CONF"))));
        String entrypoint = dockerfile.effective("softhsm", "ENTRYPOINT");
        assertThat(entrypoint).isNotNull();
        String script = entrypoint.replaceAll("[\\[\\]\"\\s]", "");
        assertThat(copies).as("the entrypoint %s comes from docker/", script)
                .anyMatch(c -> c.matches("(?:--\\S+\\s+)*docker/trent-hsm-entrypoint\\.sh\\s+" + Pattern.quote(script)));
        assertThat(dockerfile.effective("runtime", "ENTRYPOINT")).doesNotContain("trent-hsm-entrypoint");
    }

    // ---- the entrypoint script ------------------------------------------------------------------------

    @Test
    void entrypointWhenCheckedByBashThenSyntaxIsValid() throws Exception {
        assertThat(Files.readString(ENTRYPOINT, StandardCharsets.UTF_8)).startsWith("#!/usr/bin/env bash\n");
        assertThat(Files.isExecutable(ENTRYPOINT)).as("executable in git").isTrue();
        Process p;
        try {
            p = new ProcessBuilder("bash", "-n", ENTRYPOINT.toString()).redirectErrorStream(true).start();
        } catch (IOException e) {
            String reason = "bash is not on the PATH; cannot check " + ENTRYPOINT;
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                Assertions.fail(reason + " (CI=true, so this is a failure, not a skip)");
            }
            Assumptions.abort(reason);
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("bash -n: %s", out).isZero();
    }

    // ---- docs/deployment.md ------------------------------------------------------------------------

    @Test
    void deploymentDocWhenReadThenGivesTheCommands() {
        assertThat(deployment).contains("## Deployment (docker compose)", "docker compose up -d --build",
                "docker compose --profile hsm up -d --build", "pg_dump");
    }

    // ---- helpers --------------------------------------------------------------------------------------

    private static String read(String file) throws IOException {
        return Files.readString(ROOT.resolve(file), StandardCharsets.UTF_8);
    }

    private static List<String> lines(String file) throws IOException {
        return read(file).lines().map(String::strip).toList();
    }

    /** Variables that README.md and docs/ never name in backticks (as the configuration reference does). */
    private static List<String> undocumented(Set<String> variables) {
        return variables.stream().filter(v -> !readme.contains("`" + v + "`")).toList();
    }

    private static String withoutYamlComments(String yaml) {
        return yaml.lines().map(l -> l.replaceFirst("^\\s*#.*$", "").replaceFirst("\\s+#\\s.*$", ""))
                .reduce("", (a, b) -> a + b + "\n");
    }

    private static Map<String, Object> services() {
        return map(compose.get("services"));
    }

    private static Map<String, Object> service(String name) {
        Map<String, Object> s = map(services().get(name));
        assertThat(s).as("service " + name).isNotEmpty();
        return s;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    private static List<Object> list(Object o) {
        return o instanceof List<?> l ? new ArrayList<>(l) : List.of();
    }

    /** A service's environment, in map or list form. */
    private static Map<String, String> environment(String name) {
        Object env = service(name).get("environment");
        Map<String, String> out = new LinkedHashMap<>();
        if (env instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(String.valueOf(k), v == null ? null : String.valueOf(v)));
        }
        for (Object item : list(env)) {
            String s = String.valueOf(item);
            int eq = s.indexOf('=');
            out.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? null : s.substring(eq + 1));
        }
        return out;
    }

    /** The service's secrets: path in the container to the secret's name. */
    private static Map<String, String> secretTargets(String name) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Object s : list(service(name).get("secrets"))) {
            String source;
            String target;
            if (s instanceof Map<?, ?> m) {
                source = String.valueOf(m.get("source"));
                target = m.get("target") == null ? source : String.valueOf(m.get("target"));
            } else {
                source = String.valueOf(s);
                target = source;
            }
            out.put(target.startsWith("/") ? target : "/run/secrets/" + target, source);
        }
        return out;
    }

    /** The short-syntax volume entries of a service as (source, target). */
    private static List<String[]> volumes(String name) {
        List<String[]> out = new ArrayList<>();
        for (Object v : list(service(name).get("volumes"))) {
            String[] parts = String.valueOf(v).split(":");
            if (parts.length >= 2) {
                out.add(new String[] {parts[0], parts[1]});
            }
        }
        return out;
    }

    /** The named volume (declared at the top level) that the service mounts at target, or null. */
    private static String namedVolumeAt(String name, String target) {
        Map<String, Object> declared = map(compose.get("volumes"));
        return volumes(name).stream().filter(v -> v[1].equals(target) && declared.containsKey(v[0]))
                .map(v -> v[0]).findFirst().orElse(null);
    }

    /** The host path (bind mount) that the service mounts at target, or null. */
    private static String hostPathMountedAt(String name, String target) {
        return volumes(name).stream().filter(v -> v[1].equals(target) && v[0].startsWith("."))
                .map(v -> v[0]).findFirst().orElse(null);
    }

    /** Published host ports: "8080:8080" and "127.0.0.1:8080:8080" publish 8080. */
    private static Set<String> hostPorts(String name) {
        Set<String> out = new LinkedHashSet<>();
        for (Object p : list(service(name).get("ports"))) {
            String[] parts = String.valueOf(p).split(":");
            assertThat(parts.length).as("port %s of %s names the host port", p, name).isGreaterThanOrEqualTo(2);
            out.add(parts[parts.length - 2]);
        }
        return out;
    }

    // ---- a small Dockerfile reader --------------------------------------------------------------------

    record Instruction(String keyword, String args) {
    }

    record Stage(String name, String from, List<Instruction> instructions) {
        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            Pattern pair = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|\\S*)");
            for (Instruction i : instructions) {
                if (i.keyword().equals("ENV")) {
                    Matcher m = pair.matcher(i.args());
                    while (m.find()) {
                        env.put(m.group(1), m.group(2).replaceAll("^\"|\"$", ""));
                    }
                }
            }
            return env;
        }
    }

    record Dockerfile(List<Stage> stages) {

        static Dockerfile parse(String text) {
            List<Stage> stages = new ArrayList<>();
            StringBuilder logical = new StringBuilder();
            List<String> instructions = new ArrayList<>();
            for (String line : text.lines().toList()) {
                if (line.stripLeading().startsWith("#")) {
                    continue;
                }
                if (line.endsWith("\\")) {
                    logical.append(line, 0, line.length() - 1).append(' ');
                    continue;
                }
                logical.append(line);
                if (!logical.toString().isBlank()) {
                    instructions.add(logical.toString().strip());
                }
                logical.setLength(0);
            }
            for (String s : instructions) {
                String[] kv = s.split("\\s+", 2);
                String keyword = kv[0].toUpperCase(java.util.Locale.ROOT);
                String args = kv.length > 1 ? kv[1] : "";
                if (keyword.equals("FROM")) {
                    String[] f = args.split("\\s+");
                    String name = f.length >= 3 && f[1].equalsIgnoreCase("AS") ? f[2] : "stage-" + stages.size();
                    stages.add(new Stage(name, f[0], new ArrayList<>()));
                } else {
                    assertThat(stages).as("%s before any FROM", keyword).isNotEmpty();
                    stages.get(stages.size() - 1).instructions().add(new Instruction(keyword, args));
                }
            }
            return new Dockerfile(stages);
        }

        List<String> stageNames() {
            return stages.stream().map(Stage::name).toList();
        }

        Stage stage(String name) {
            return stages.stream().filter(s -> s.name().equals(name)).findFirst()
                    .orElseThrow(() -> new AssertionError("no stage " + name + " in the Dockerfile"));
        }

        /** The stage and the stages it is built FROM, base first. */
        List<Stage> chain(String name) {
            List<Stage> chain = new ArrayList<>();
            Stage s = stage(name);
            chain.add(0, s);
            while (stageNames().contains(s.from())) {
                s = stage(s.from());
                chain.add(0, s);
            }
            return chain;
        }

        String externalBase(String name) {
            return chain(name).get(0).from();
        }

        /** The arguments of the last such instruction in the chain, or null. */
        String effective(String name, String keyword) {
            String value = null;
            for (Stage s : chain(name)) {
                for (Instruction i : s.instructions()) {
                    if (i.keyword().equals(keyword)) {
                        value = i.args();
                    }
                }
            }
            return value;
        }

        /** USER of the target; null when none is set (an external image's default, root). */
        String effectiveUser(String name) {
            return effective(name, "USER");
        }

        Map<String, String> effectiveEnv(String name) {
            Map<String, String> env = new LinkedHashMap<>();
            chain(name).forEach(s -> env.putAll(s.env()));
            return env;
        }

        Set<String> effectiveVolumes(String name) {
            Set<String> out = new LinkedHashSet<>();
            for (Stage s : chain(name)) {
                for (Instruction i : s.instructions()) {
                    if (i.keyword().equals("VOLUME")) {
                        for (String v : i.args().replaceAll("[\\[\\]\",]", " ").trim().split("\\s+")) {
                            out.add(v);
                        }
                    }
                }
            }
            return out;
        }
    }
}
