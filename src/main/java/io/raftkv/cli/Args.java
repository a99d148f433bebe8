package io.raftkv.cli;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A command line split into options and positional arguments. Options are {@code --name value}, {@code --name=value}
 * or, for flags, {@code --name}; {@code -o} is {@code --output}, {@code -h} is {@code --help}; {@code --} ends the
 * options. Unknown options are an error (exit 2).
 */
final class Args {

    /** Options of every command (they take a value). */
    static final Set<String> GLOBAL = Set.of("endpoints", "token", "cacert", "output", "timeout");

    final List<String> positional = new ArrayList<>();
    private final Map<String, String> options = new HashMap<>();

    /**
     * @param valued the command's own options that take a value
     * @param flags  its options without a value
     */
    static Args parse(List<String> args, Set<String> valued, Set<String> flags) {
        Args a = new Args();
        boolean optionsEnded = false;
        for (int i = 0; i < args.size(); i++) {
            String s = args.get(i);
            if (optionsEnded || !s.startsWith("-") || s.equals("-")) {
                a.positional.add(s);
                continue;
            }
            if (s.equals("--")) {
                optionsEnded = true;
                continue;
            }
            String name;
            String value = null;
            if (s.equals("-o")) {
                name = "output";
            } else if (s.equals("-h")) {
                name = "help";
            } else if (s.startsWith("--")) {
                int eq = s.indexOf('=');
                name = eq < 0 ? s.substring(2) : s.substring(2, eq);
                value = eq < 0 ? null : s.substring(eq + 1);
            } else {
                throw new CtlException(Ctl.EXIT_USAGE, "unknown option " + s);
            }
            if (name.equals("help") || flags.contains(name)) {
                if (value != null) {
                    throw new CtlException(Ctl.EXIT_USAGE, "--" + name + " takes no value");
                }
                a.options.put(name, "true");
            } else if (GLOBAL.contains(name) || valued.contains(name)) {
                if (value == null) {
                    if (i + 1 >= args.size()) {
                        throw new CtlException(Ctl.EXIT_USAGE, "--" + name + " needs a value");
                    }
                    value = args.get(++i);
                }
                a.options.put(name, value);
            } else {
                throw new CtlException(Ctl.EXIT_USAGE, "unknown option --" + name);
            }
        }
        return a;
    }

    String get(String name) {
        return options.get(name);
    }

    boolean has(String name) {
        return options.containsKey(name);
    }

    long number(String name, long min, long dflt) {
        String v = options.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw new CtlException(Ctl.EXIT_USAGE, "--" + name + " must be an integer of at least " + min + ", not '" + v + "'");
    }

    /** Exactly {@code n} positional arguments (else a usage error naming what is expected). */
    void expect(int min, int max, String what) {
        if (positional.size() < min || positional.size() > max) {
            throw new CtlException(Ctl.EXIT_USAGE, "expected " + what + (positional.isEmpty() ? "" : ", got " + positional));
        }
    }
}
