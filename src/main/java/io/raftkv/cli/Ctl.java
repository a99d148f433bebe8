package io.raftkv.cli;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * {@code raftkvctl}: the command-line client of a raftkv cluster (the artifact's {@code ctl} entry point, see
 * {@code RaftkvMain}). Parses the global options, dispatches to the command, and maps failures to exit codes.
 */
public final class Ctl {

    public static final int EXIT_OK = 0;
    /** The cluster answered with an error (or check found an unhealthy member). */
    public static final int EXIT_FAILED = 1;
    /** Bad arguments. */
    public static final int EXIT_USAGE = 2;
    /** No endpoint could serve the request (unreachable, no leader, timed out). */
    public static final int EXIT_UNAVAILABLE = 3;
    /** get: the key does not exist. */
    public static final int EXIT_NOT_FOUND = 4;
    /** A conditional put or delete whose condition did not hold (409). */
    public static final int EXIT_CONFLICT = 5;
    /** watch: the history asked for is no longer retained (410): list again, then watch from the index printed. */
    public static final int EXIT_GONE = 6;

    static final String GLOBAL_HELP = """
            Global options (every command):
              --endpoints URL,URL,...  the members to talk to (env RAFTKV_ENDPOINTS; default http://127.0.0.1:8001,
                                       http://127.0.0.1:8002,http://127.0.0.1:8003)
              --token TOKEN            send Authorization: Bearer TOKEN (env RAFTKV_TOKEN)
              --cacert FILE            trust the PEM certificate(s) in FILE for https endpoints (env RAFTKV_CACERT)
              --timeout DURATION       give up after this long, retries included (default 10s; e.g. 500ms, 30s)
              -o, --output text|json   output format (default text)
              -h, --help               help for the command
            """;

    static final String EXIT_HELP = """
            Exit status: 0 ok; 1 the cluster answered with an error (check: a member is unhealthy); 2 bad arguments;
            3 no endpoint could serve the request (unreachable, no leader, timed out); 4 get: no such key;
            5 the condition of a conditional put/del did not hold; 6 watch: the index asked for is no longer retained
            (list again, then watch from the index printed).
            """;

    static final Map<String, String> HELP = new LinkedHashMap<>();

    static {
        HELP.put("put", "put KEY [VALUE] [--file FILE] [--if-version N] [--if-value V]\n"
                + "  Set KEY to VALUE (or the content of FILE, '-' for standard input). --if-version N: only if the key's\n"
                + "  version is N (0: only if absent); --if-value V: only if its value is V. Prints the new version.");
        HELP.put("get", "get KEY [--stale]\n"
                + "  Print KEY's value (its bytes as they are; -o json: {key, version, value}). Linearizable, unless\n"
                + "  --stale (any member's own copy). Exit 4 if there is no such key.");
        HELP.put("del", "del KEY [--if-version N] [--if-value V]\n  Delete KEY (conditions as for put).");
        HELP.put("list", "list [PREFIX] [--limit N] [--stale]\n"
                + "  The keys starting with PREFIX (all keys without one), in key order, with version and size; at most\n"
                + "  N (default 1000, at most 10000).");
        HELP.put("watch", "watch [PREFIX] [--from-index N] [--no-values] [--count N]\n"
                + "  Print every put and delete of the keys under PREFIX as it is applied, in log order, from index N\n"
                + "  (default: from now on). Reconnects to the next endpoint when a connection ends and resumes after the\n"
                + "  last index seen (no gap, no repeat). --count N: exit after N events. Exit 6 if the history asked\n"
                + "  for is no longer retained.");
        HELP.put("status", "status\n"
                + "  Every member in a table: id, URL, role, term, leader, commit/applied/first index, lag (entries the\n"
                + "  member has still to apply of what the leader committed), DB size (kv.db) and log size.");
        HELP.put("members", "members list | add ID URL [--learner] | remove ID [--force] | promote ID | replace ID [--force]\n"
                + "  List the members, or change membership on the leader (one change at a time; see the README).");
        HELP.put("leader", "leader transfer [ID]\n  Hand leadership to ID (default: the most up-to-date follower).");
        HELP.put("snapshot", "snapshot save FILE | snapshot save --dir DIR [--retain N] | snapshot restore FILE ...\n"
                + "  Have the leader take a snapshot now and download it to FILE (verified: checksum and format).\n"
                + "  --dir DIR: save it as DIR/raftkv-<UTC time>-<index>.snap instead; --retain N then keeps only the\n"
                + "  newest N such files in DIR (a scheduled backup).\n"
                + "snapshot restore FILE --data-dir DIR --node-id ID [--if-empty] [--only ID] [--log-store K] [--cluster-token T]\n"
                + "  Offline: make the empty DIR the data directory of the only member of a new cluster holding FILE's\n"
                + "  data (as raftkv restore); start the node on DIR, then add the other members empty.");
        HELP.put("check", "check\n"
                + "  Health of every member (reachable, ready, same leader and term, applied what is committed).\n"
                + "  Exit 1 if any member is unhealthy or there is no leader.");
    }

    final PrintStream out;
    final PrintStream err;
    final Map<String, String> env;
    boolean json;
    CtlClient client;

    Ctl(PrintStream out, PrintStream err, Map<String, String> env) {
        this.out = out;
        this.err = err;
        this.env = env;
    }

    /** Runs one command line; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        Ctl ctl = new Ctl(out, err, env);
        try {
            return ctl.dispatch(Arrays.asList(args));
        } catch (CtlException e) {
            err.println("raftkvctl: " + e.getMessage());
            if (e.status() == EXIT_USAGE) {
                err.println("(raftkvctl --help for the commands)");
            }
            return e.status();
        } finally {
            out.flush();
        }
    }

    private int dispatch(List<String> args) {
        if (args.isEmpty() || args.get(0).equals("--help") || args.get(0).equals("-h") || args.get(0).equals("help")) {
            if (args.size() > 1 && HELP.containsKey(args.get(1))) {
                return help(args.get(1));
            }
            usage(out);
            return args.isEmpty() ? EXIT_USAGE : EXIT_OK;
        }
        int at = commandIndex(args);
        if (at < 0) {
            throw new CtlException(EXIT_USAGE, "no command given");
        }
        String cmd = args.get(at);
        if (!HELP.containsKey(cmd)) {
            throw new CtlException(EXIT_USAGE, "unknown command '" + cmd + "'");
        }
        List<String> rest = new ArrayList<>(args.subList(0, at));
        rest.addAll(args.subList(at + 1, args.size()));
        if (cmd.equals("snapshot") && at + 1 < args.size() && args.get(at + 1).equals("restore")) {
            // Offline, on a data directory: the server's restore command (no endpoints, no cluster).
            return io.raftkv.restore.RestoreCommand.run(args.subList(at + 2, args.size()).toArray(String[]::new), out, err);
        }
        if (rest.contains("--help") || rest.contains("-h")) {
            return help(cmd);
        }
        return switch (cmd) {
            case "put", "get", "del", "list", "watch" -> new KvCommands(this).run(cmd, rest);
            default -> new ClusterCommands(this).run(cmd, rest);
        };
    }

    /** Where the command is: the first argument that is neither a global option nor its value; -1 if none. */
    static int commandIndex(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String s = args.get(i);
            if (!s.startsWith("-")) {
                return i;
            }
            String name = s.equals("-o") ? "output" : s.startsWith("--") && !s.contains("=") ? s.substring(2) : null;
            if (name != null && Args.GLOBAL.contains(name)) {
                i++; // its value
            }
        }
        return -1;
    }

    private int help(String cmd) {
        out.println("usage: raftkvctl [options] " + HELP.get(cmd));
        out.println();
        out.print(GLOBAL_HELP);
        out.println();
        out.print(EXIT_HELP);
        return EXIT_OK;
    }

    static void usage(PrintStream out) {
        out.println("usage: raftkvctl COMMAND [ARGS] [options]    the command-line client of a raftkv cluster");
        out.println();
        out.println("Commands:");
        for (String h : HELP.values()) {
            out.println("  " + h.lines().findFirst().orElse(""));
        }
        out.println();
        out.print(GLOBAL_HELP);
        out.println();
        out.print(EXIT_HELP);
    }

    /** Parses the command's arguments and sets up the client from the global options. */
    Args parse(List<String> args, Set<String> valued, Set<String> flags) {
        Args a = Args.parse(args, valued, flags);
        String output = a.get("output") == null ? "text" : a.get("output").toLowerCase(Locale.ROOT);
        if (!output.equals("text") && !output.equals("json")) {
            throw new CtlException(EXIT_USAGE, "-o must be text or json, not '" + a.get("output") + "'");
        }
        json = output.equals("json");
        String endpoints = a.get("endpoints") != null ? a.get("endpoints")
                : env.getOrDefault("RAFTKV_ENDPOINTS", "http://127.0.0.1:8001,http://127.0.0.1:8002,http://127.0.0.1:8003");
        String token = a.get("token") != null ? a.get("token") : env.get("RAFTKV_TOKEN");
        String cacert = a.get("cacert") != null ? a.get("cacert") : env.get("RAFTKV_CACERT");
        client = new CtlClient(endpoints(endpoints), token, cacert == null || cacert.isEmpty() ? null : Path.of(cacert),
                duration(a.get("timeout"), Duration.ofSeconds(10)));
        return a;
    }

    static List<URI> endpoints(String list) {
        List<URI> out = new ArrayList<>();
        for (String s : list.split(",")) {
            s = s.trim();
            if (s.isEmpty()) {
                continue;
            }
            URI u;
            try {
                u = URI.create(s.contains("://") ? s : "http://" + s);
            } catch (IllegalArgumentException e) {
                throw new CtlException(EXIT_USAGE, "bad endpoint '" + s + "': " + e.getMessage());
            }
            if (u.getHost() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))) {
                throw new CtlException(EXIT_USAGE, "bad endpoint '" + s + "': give http(s)://host:port");
            }
            out.add(u);
        }
        return out;
    }

    static Duration duration(String s, Duration dflt) {
        if (s == null) {
            return dflt;
        }
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            Duration d;
            if (t.endsWith("ms")) {
                d = Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            } else if (t.endsWith("s")) {
                d = Duration.ofMillis((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
            } else if (t.endsWith("m")) {
                d = Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            } else {
                d = Duration.parse(s);
            }
            if (!d.isNegative() && !d.isZero()) {
                return d;
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            // below
        }
        throw new CtlException(EXIT_USAGE, "--timeout must be a duration such as 500ms, 10s or 2m, not '" + s + "'");
    }

    /** Prints a JSON value on one line (the -o json output). */
    void printJson(Object value) {
        try {
            out.println(CtlClient.JSON.writeValueAsString(value));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CtlException(EXIT_FAILED, "cannot write JSON: " + e.getMessage());
        }
    }

    /** The exit status and message for an error answer. */
    static CtlException failure(CtlClient.Answer a, String what) {
        int status = switch (a.status()) {
            case 404 -> EXIT_NOT_FOUND;
            case 409 -> EXIT_CONFLICT;
            case 410 -> EXIT_GONE;
            case 503, 504 -> EXIT_UNAVAILABLE;
            default -> EXIT_FAILED;
        };
        return new CtlException(status, what + ": " + a.problem());
    }
}
