import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The lab scenario against the local cluster (make run), narrated: a leader; a value replicated to all three state
 * machines; the leader SIGKILLed; a new leader and how long the election took; a second value on the survivors; the
 * old leader restarted as a follower in the new term with the second value; the event log lines that show it. At the
 * lab's three screenshot steps it prints the tail of every node's command log (GET /v1/log) beside its state machine
 * and checks the new entry has the same index and term on every running node; it ends by writing every node's files
 * in readable form (scripts/lab-files.sh, the offline dump) to data/lab-files/.
 * Run with: java scripts/LabDemo.java   (exit status 0 when every check passed)
 */
public class LabDemo {

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    static final String[] NODES = {"node1", "node2", "node3"};
    static final Path DATA = Path.of(System.getenv().getOrDefault("RAFTKV_LOCAL_DATA", "data"));
    static int step;

    public static void main(String[] args) throws Exception {
        String run = Long.toString(System.currentTimeMillis() % 100000);
        String first = "first-value-" + run;
        String second = "second-value-" + run;

        say("Waiting for the cluster to elect a leader");
        String leader = waitFor("a leader", 30, () -> findLeader(List.of(NODES)));
        long term1 = term(leader);
        ok("the leader is " + leader + " in term " + term1 + " (the nodes run the " + field(status(leader), "runtime")
                + (("native".equals(field(status(leader), "runtime"))) ? " executable)" : " build on a JVM)"));

        say("The leader sets lab/x = " + first);
        String put = put(leader, "lab/x", first);
        ok("committed and applied on the leader: " + put);

        say("The value replicates to all three state machines (stale reads, each node's own copy)");
        for (String n : NODES) {
            waitFor(n + " to apply it", 10, () -> first.equals(staleGet(n, "lab/x")) ? "yes" : null);
            ok(n + " has lab/x = " + first);
        }
        long firstIndex = Long.parseLong(field(put, "index"));
        long firstTerm = Long.parseLong(field(put, "term"));
        showLogs(List.of(NODES), "lab/x", firstIndex, firstTerm, null);

        say("SIGKILL the leader " + leader);
        long killedAt = System.nanoTime();
        exec("scripts/cluster-local.sh", "kill-node", leader.substring(4));
        List<String> survivors = new ArrayList<>();
        for (String n : NODES) {
            if (!n.equals(leader)) {
                survivors.add(n);
            }
        }
        String newLeader = waitFor("a new leader among " + survivors, 30, () -> findLeader(survivors));
        long electionMs = (System.nanoTime() - killedAt) / 1_000_000;
        long term2 = term(newLeader);
        ok("the new leader is " + newLeader + " in term " + term2 + ", elected " + electionMs + " ms after the kill");
        check(term2 > term1, "the new term " + term2 + " is higher than " + term1);

        say("The new leader sets lab/y = " + second);
        String put2 = put(newLeader, "lab/y", second);
        ok("committed: " + put2);
        for (String n : survivors) {
            waitFor(n + " to apply it", 10, () -> second.equals(staleGet(n, "lab/y")) ? "yes" : null);
            ok(n + " has lab/y = " + second);
        }
        long secondIndex = Long.parseLong(field(put2, "index"));
        long secondTerm = Long.parseLong(field(put2, "term"));
        showLogs(survivors, "lab/y", secondIndex, secondTerm, leader);

        say("Restart the old leader " + leader + " on its data");
        exec("scripts/cluster-local.sh", "start-node", leader.substring(4));
        waitFor(leader + " to catch up", 30, () -> second.equals(staleGet(leader, "lab/y")) ? "yes" : null);
        String st = status(leader);
        String role = field(st, "role");
        long oldTerm = Long.parseLong(field(st, "term"));
        check("follower".equals(role), leader + " is a follower (role " + role + ")");
        check(oldTerm >= term2, leader + " is in term " + oldTerm + " (>= " + term2 + ")");
        ok(leader + " rejoined as a follower in term " + oldTerm + ", following " + field(st, "leader")
                + ", and its state machine has lab/x = " + staleGet(leader, "lab/x") + ", lab/y = " + staleGet(leader, "lab/y"));
        showLogs(List.of(NODES), "lab/y", secondIndex, secondTerm, null);
        check(entryAt(leader, firstIndex, firstTerm, "PUT lab/x"), leader + "'s log still has lab/x at " + firstIndex
                + " (term " + firstTerm + ")");

        say("What the old leader's event log (" + DATA.resolve(leader).resolve("events.log") + ") says");
        List<String> lines = Files.readAllLines(DATA.resolve(leader).resolve("events.log"));
        int start = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(" started: ")) {
                start = i;
            }
        }
        boolean sawNewLeader = false;
        for (String l : lines.subList(Math.max(0, start - 3), lines.size())) {
            System.out.println("    " + l);
            sawNewLeader |= l.contains("leader is now: " + newLeader);
        }
        check(sawNewLeader, "the old leader's event log names " + newLeader + " as leader");

        say("Every node's files for the lab, dumped readable (make lab-files) into " + DATA.resolve("lab-files"));
        exec("bash", "scripts/lab-files.sh");
        Path oldLeaderLog = DATA.resolve("lab-files").resolve(leader + ".log.txt");
        check(Files.readString(oldLeaderLog).contains("PUT lab/y"), oldLeaderLog + " shows the write of lab/y");
        ok(oldLeaderLog + " holds the old leader's command log, lab/y included");
        System.out.println();
        System.out.println("PASS: the lab scenario ran end to end (election after the kill took " + electionMs + " ms).");
    }

    // ---------------------------------------------------------------------------------------------------------------

    static final int TAIL = 4;
    static final int LOG_COLUMN = 62;
    static final Pattern ENTRY = Pattern.compile(
            "\\{\"index\":(\\d+),\"term\":(\\d+),\"type\":\"(\\w+)\",\"text\":\"((?:[^\"\\\\]|\\\\.)*)\"");
    static final Pattern KEY = Pattern.compile("\\{\"key\":\"((?:[^\"\\\\]|\\\\.)*)\",\"version\":(\\d+)");

    /**
     * The tail of each node's command log (GET /v1/log: index, term, decoded command) beside its state machine (the
     * lab/ keys, stale reads), and a check that the entry at {@code index} is {@code term}'s write of {@code key} on
     * every node in {@code mustHave}. {@code down} is shown as down.
     */
    static void showLogs(List<String> mustHave, String key, long index, long term, String down) throws Exception {
        System.out.println();
        for (String n : NODES) {
            if (n.equals(down)) {
                System.out.println("    " + n + ": down (SIGKILLed)");
                System.out.println();
                continue;
            }
            String st = status(n);
            check(st != null, n + " answers /v1/status");
            long last = Long.parseLong(field(st, "lastIndex"));
            String log = get(n, "/v1/log?from=" + Math.max(1, last - TAIL + 1) + "&limit=" + TAIL);
            String keys = get(n, "/v1/kv?prefix=lab/&consistency=stale");
            System.out.println("    " + n + ": " + field(st, "role") + ", term " + field(st, "term") + ", commit "
                    + field(st, "commitIndex"));
            List<String> left = new ArrayList<>();
            List<String> right = new ArrayList<>();
            long from = Long.parseLong(field(log, "from"));
            left.add("command log (" + (from > Long.parseLong(field(log, "firstIndex")) ? "the last " + TAIL + " of " : "")
                    + field(log, "firstIndex") + ".." + last + ")");
            Matcher m = ENTRY.matcher(log);
            while (m.find()) {
                left.add(String.format("%5s  term %-3s %s", m.group(1), m.group(2), unescape(m.group(4))));
            }
            right.add("state machine (applied " + field(st, "lastApplied") + ")");
            Matcher k = KEY.matcher(keys);
            while (k.find()) {
                String name = unescape(k.group(1));
                right.add(name + " = " + staleGet(n, name) + " (version " + k.group(2) + ")");
            }
            for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
                String l = i < left.size() ? left.get(i) : "";
                if (l.length() > LOG_COLUMN - 2) {
                    l = l.substring(0, LOG_COLUMN - 3) + "…";
                }
                System.out.println("      " + l + " ".repeat(LOG_COLUMN - l.length()) + "| "
                        + (i < right.size() ? right.get(i) : ""));
            }
            System.out.println();
        }
        for (String n : mustHave) {
            check(entryAt(n, index, term, "PUT " + key), n + "'s log has PUT " + key + " at index " + index
                    + " in term " + term);
        }
        ok("every " + (mustHave.size() == NODES.length ? "" : "running ") + "node's log has PUT " + key + " at index "
                + index + ", term " + term);
    }

    /** Whether {@code node}'s log holds at {@code index} an entry of {@code term} whose text starts with {@code text}. */
    static boolean entryAt(String node, long index, long term, String text) throws Exception {
        Matcher m = ENTRY.matcher(get(node, "/v1/log?from=" + index + "&limit=1"));
        return m.find() && Long.parseLong(m.group(1)) == index && Long.parseLong(m.group(2)) == term
                && unescape(m.group(4)).startsWith(text);
    }

    static String get(String node, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(auth(HttpRequest.newBuilder(URI.create(url(node) + path)))
                .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        check(r.statusCode() == 200, "GET " + path + " on " + node + " answered " + r.statusCode() + " " + r.body());
        return r.body();
    }

    /** A JSON string's content without its escapes. */
    static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                sb.append(c);
                continue;
            }
            char e = s.charAt(++i);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'u' -> {
                    sb.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                    i += 4;
                }
                default -> sb.append(e);
            }
        }
        return sb.toString();
    }

    static String findLeader(List<String> among) {
        for (String n : among) {
            String s = status(n);
            if (s != null && "leader".equals(field(s, "role"))) {
                return n;
            }
        }
        return null;
    }

    static long term(String node) {
        return Long.parseLong(field(status(node), "term"));
    }

    /** With authentication on, the token in RAFTKV_TOKEN (it needs read:* write:* admin for the whole demo). */
    static HttpRequest.Builder auth(HttpRequest.Builder b) {
        String token = System.getenv("RAFTKV_TOKEN");
        return token == null || token.isBlank() ? b : b.header("Authorization", "Bearer " + token.trim());
    }

    static String url(String node) {
        return "http://127.0.0.1:800" + node.substring(4);
    }

    static String status(String node) {
        try {
            HttpResponse<String> r = HTTP.send(auth(HttpRequest.newBuilder(URI.create(url(node) + "/v1/status")))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (Exception e) {
            return null;
        }
    }

    static String staleGet(String node, String key) {
        try {
            HttpResponse<String> r = HTTP.send(auth(HttpRequest.newBuilder(URI.create(url(node) + "/v1/kv/" + key + "?consistency=stale")))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (Exception e) {
            return null;
        }
    }

    static String put(String node, String key, String value) throws Exception {
        HttpResponse<String> r = HTTP.send(auth(HttpRequest.newBuilder(URI.create(url(node) + "/v1/kv/" + key)))
                .timeout(Duration.ofSeconds(5)).PUT(HttpRequest.BodyPublishers.ofString(value)).build(), HttpResponse.BodyHandlers.ofString());
        check(r.statusCode() == 200, "PUT " + key + " on " + node + " answered " + r.statusCode() + " " + r.body());
        return r.body();
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\"([^\"]*)\"|(-?\\d+)|null)").matcher(json);
        if (!m.find()) {
            return null;
        }
        return m.group(2) != null ? m.group(2) : m.group(3);
    }

    static <T> T waitFor(String what, int seconds, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            Thread.sleep(50);
        }
        fail("timed out after " + seconds + " s waiting for " + what);
        return null;
    }

    static void exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        check(p.waitFor() == 0, String.join(" ", cmd) + " failed");
    }

    static void say(String s) {
        System.out.println();
        System.out.println("[" + (++step) + "] " + s);
    }

    static void ok(String s) {
        System.out.println("    ok: " + s);
    }

    static void check(boolean cond, String what) {
        if (!cond) {
            fail(what);
        }
    }

    static void fail(String why) {
        System.out.println("FAIL: " + why);
        System.exit(1);
    }
}
