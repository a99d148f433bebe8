package io.raftkv.helm;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * `helm lint` and `helm template` for machines without a helm binary, through the helm that helm-java bundles (the
 * Makefile's helm-lint and helm-template targets fall back to it). Runs from the test classpath:
 * <pre>
 *   HelmCli lint [--strict] CHART
 *   HelmCli template RELEASE CHART [--namespace NS] [--set k=v[,k=v...]]... [--values FILE]...
 * </pre>
 */
public final class HelmCli {

    private HelmCli() {
    }

    public static void main(String[] argv) {
        try {
            System.exit(run(List.of(argv)));
        } catch (IllegalArgumentException e) {
            System.err.println("HelmCli: " + e.getMessage());
            System.exit(2);
        } catch (RuntimeException e) {
            System.err.println("Error: " + e.getMessage());
            System.exit(1);
        }
    }

    static int run(List<String> argv) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("usage: lint [--strict] CHART | template RELEASE CHART [--namespace NS] [--set k=v]... [--values FILE]...");
        }
        List<String> positional = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        List<Path> valuesFiles = new ArrayList<>();
        String namespace = null;
        boolean strict = false;
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            switch (a) {
                case "--strict" -> strict = true;
                case "--namespace", "-n" -> namespace = value(argv, ++i, a);
                case "--set" -> sets.add(value(argv, ++i, a));
                case "--values", "-f" -> valuesFiles.add(Path.of(value(argv, ++i, a)));
                default -> {
                    if (a.startsWith("--set=")) {
                        sets.add(a.substring("--set=".length()));
                    } else if (a.startsWith("--namespace=")) {
                        namespace = a.substring("--namespace=".length());
                    } else if (a.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + a);
                    } else {
                        positional.add(a);
                    }
                }
            }
        }
        switch (argv.get(0)) {
            case "lint" -> {
                if (positional.size() != 1) {
                    throw new IllegalArgumentException("lint takes one CHART directory");
                }
                LintCommand lint = new Helm(Path.of(positional.get(0))).lint();
                if (strict) {
                    lint.strict();
                }
                LintResult result = lint.call();
                result.getMessages().forEach(System.out::println);
                System.out.println(result.isFailed() ? "Error: the chart failed linting" : "1 chart(s) linted, 0 chart(s) failed");
                return result.isFailed() ? 1 : 0;
            }
            case "template" -> {
                if (positional.size() != 2) {
                    throw new IllegalArgumentException("template takes RELEASE and CHART");
                }
                TemplateCommand template = new Helm(Path.of(positional.get(1))).template().withName(positional.get(0));
                if (namespace != null) {
                    template.withNamespace(namespace);
                }
                for (String s : sets) {
                    for (String kv : s.split(",")) {
                        int eq = kv.indexOf('=');
                        if (eq <= 0) {
                            throw new IllegalArgumentException("--set wants key=value, got " + kv);
                        }
                        template.set(kv.substring(0, eq), kv.substring(eq + 1));
                    }
                }
                valuesFiles.forEach(template::withValuesFile);
                System.out.print(template.call());
                return 0;
            }
            default -> throw new IllegalArgumentException("unknown command " + argv.get(0) + " (lint, template)");
        }
    }

    private static String value(List<String> argv, int i, String option) {
        if (i >= argv.size()) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return argv.get(i);
    }
}
