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
 * old leader restarted as a follower in the new term with the second value; the event log lines that show it.
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
        ok("committed: " + put(newLeader, "lab/y", second));
        for (String n : survivors) {
            waitFor(n + " to apply it", 10, () -> second.equals(staleGet(n, "lab/y")) ? "yes" : null);
            ok(n + " has lab/y = " + second);
        }

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
        System.out.println();
        System.out.println("PASS: the lab scenario ran end to end (election after the kill took " + electionMs + " ms).");
    }

    // ---------------------------------------------------------------------------------------------------------------

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

    static String url(String node) {
        return "http://127.0.0.1:800" + node.substring(4);
    }

    static String status(String node) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url(node) + "/v1/status"))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (Exception e) {
            return null;
        }
    }

    static String staleGet(String node, String key) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url(node) + "/v1/kv/" + key + "?consistency=stale"))
                    .timeout(Duration.ofSeconds(1)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (Exception e) {
            return null;
        }
    }

    static String put(String node, String key, String value) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url(node) + "/v1/kv/" + key))
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
