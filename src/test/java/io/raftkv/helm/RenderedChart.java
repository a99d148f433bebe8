package io.raftkv.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.DryRun;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.TemplateCommand;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The raftkv chart (helm/raftkv) rendered by the real helm that helm-java bundles, parsed into one JSON tree per
 * manifest. Used by the chart's unit tests and by the wiring integration test.
 */
final class RenderedChart {

    /** The chart, relative to the project directory (where Surefire and Failsafe run). */
    static final Path CHART = Path.of("helm/raftkv");

    private static final YAMLMapper YAML = new YAMLMapper();

    private final String yaml;
    private final List<JsonNode> manifests;

    private RenderedChart(String yaml, List<JsonNode> manifests) {
        this.yaml = yaml;
        this.manifests = manifests;
    }

    /** Builder of one `helm template` run. */
    static Render render(String release, String namespace) {
        return new Render(CHART, release, namespace);
    }

    String yaml() {
        return yaml;
    }

    List<JsonNode> manifests() {
        return manifests;
    }

    List<JsonNode> ofKind(String kind) {
        return manifests.stream().filter(m -> kind.equals(m.path("kind").asText())).toList();
    }

    /** The only manifest of this kind; fails when there is none or more than one. */
    JsonNode one(String kind) {
        List<JsonNode> all = ofKind(kind);
        if (all.size() != 1) {
            throw new AssertionError("expected exactly one " + kind + ", found " + all.size() + " in:\n" + yaml);
        }
        return all.get(0);
    }

    JsonNode named(String kind, String name) {
        return ofKind(kind).stream().filter(m -> name.equals(m.path("metadata").path("name").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in:\n" + yaml));
    }

    /** The StatefulSet's (only) container. */
    JsonNode container() {
        JsonNode containers = one("StatefulSet").path("spec").path("template").path("spec").path("containers");
        if (containers.size() != 1) {
            throw new AssertionError("expected one container in the StatefulSet, found " + containers.size());
        }
        return containers.get(0);
    }

    /** A container's env as name -> EnvVar, in order. */
    static Map<String, JsonNode> env(JsonNode container) {
        Map<String, JsonNode> env = new LinkedHashMap<>();
        for (JsonNode e : container.path("env")) {
            if (env.put(e.path("name").asText(), e) != null) {
                throw new AssertionError("env " + e.path("name").asText() + " is set twice");
            }
        }
        return env;
    }

    static List<JsonNode> parse(String yaml) {
        List<JsonNode> out = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                JsonNode doc = it.nextValue();
                if (doc != null && doc.isObject() && !doc.isEmpty()) {
                    out.add(doc);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("rendered chart is not valid YAML:\n" + yaml, e);
        }
        return out;
    }

    static final class Render {
        private final Path chart;
        private final String release;
        private final String namespace;
        private final Map<String, Object> set = new LinkedHashMap<>();
        private final List<String> valuesYaml = new ArrayList<>();

        private Render(Path chart, String release, String namespace) {
            this.chart = chart;
            this.release = release;
            this.namespace = namespace;
            // Peer TLS is on by default and the chart refuses to render without certificates: every render names a
            // Secret unless a test says otherwise (set("peerTls.existingSecret", "") to go without).
            set.put("peerTls.existingSecret", "raftkv-peer-tls");
        }

        /** Like `--set key=value` (helm infers the type: numbers, booleans, strings). */
        Render set(String key, Object value) {
            set.put(key, value);
            return this;
        }

        /** Like `--values file.yaml`, for structured values (maps, lists). */
        Render values(String yaml) {
            valuesYaml.add(yaml);
            return this;
        }

        /** `helm template`: the manifests, without hooks (helm-java prints the release manifest only). */
        RenderedChart template() {
            return template(chart);
        }

        /**
         * `helm template` of a copy of the chart in which the `helm test` hooks are plain manifests, so the test pod
         * appears in the output (helm-java leaves hooks out). The copy differs only in the hook annotation's name.
         */
        RenderedChart templateWithTestHooks() {
            return templateWithHooksOf("templates/tests");
        }

        /** As {@link #templateWithTestHooks()}, for every hook of the chart (the scale-down Job included). */
        RenderedChart templateWithHooks() {
            return templateWithHooksOf("templates");
        }

        private RenderedChart templateWithHooksOf(String dir) {
            Path copy = null;
            try {
                copy = Files.createTempDirectory("raftkv-chart-");
                Path target = copy.resolve("raftkv");
                copyTree(chart, target);
                try (Stream<Path> files = Files.walk(target.resolve(dir))) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        Files.writeString(f, Files.readString(f).replace("helm.sh/hook:", "raftkv.io/was-helm-hook:"));
                    }
                }
                return template(target);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteTree(copy);
            }
        }

        /** The NOTES.txt text, from a client-side dry-run install (the only helm-java command that renders it). */
        String notes() {
            List<Path> files = writeValuesFiles();
            try {
                InstallCommand install = new Helm(chart).install().withName(release).withNamespace(namespace)
                        .dryRun().withDryRunOption(DryRun.CLIENT).clientOnly();
                set.forEach(install::set);
                files.forEach(install::withValuesFile);
                String out = install.call().getOutput();
                int at = out.indexOf("NOTES:\n");
                if (at < 0) {
                    throw new AssertionError("no NOTES in the install output:\n" + out);
                }
                return out.substring(at + "NOTES:\n".length());
            } finally {
                files.forEach(RenderedChart::deleteQuietly);
            }
        }

        private RenderedChart template(Path chartDir) {
            List<Path> files = writeValuesFiles();
            try {
                TemplateCommand template = new Helm(chartDir).template().withName(release).withNamespace(namespace);
                set.forEach(template::set);
                files.forEach(template::withValuesFile);
                String yaml = template.call();
                return new RenderedChart(yaml, parse(yaml));
            } finally {
                files.forEach(RenderedChart::deleteQuietly);
            }
        }

        private List<Path> writeValuesFiles() {
            List<Path> files = new ArrayList<>();
            try {
                for (String v : valuesYaml) {
                    Path f = Files.createTempFile("raftkv-values-", ".yaml");
                    Files.writeString(f, v);
                    files.add(f);
                }
            } catch (IOException e) {
                files.forEach(RenderedChart::deleteQuietly);
                throw new UncheckedIOException(e);
            }
            return files;
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    private static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(RenderedChart::deleteQuietly);
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a temp file left behind is harmless
        }
    }
}
