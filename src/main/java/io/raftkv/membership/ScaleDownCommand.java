package io.raftkv.membership;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.cli.CtlClient;
import io.raftkv.cli.OfflineArgs;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code raftkv scale-down --endpoints URL[,URL...] --prefix P --keep N [--timeout 120s]}: removes from the
 * configuration, one at a time and highest ordinal first, every member named {@code P<ordinal>} with an ordinal of
 * {@code N} or more, waiting for each removal to commit. What the chart's pre-upgrade hook runs before a StatefulSet
 * shrinks, so that the pods that go are no longer members when they go (and a quorum never counts them). Members with
 * other names are left alone; nothing to remove is success.
 * <p>
 * Exit codes: 0 done (or nothing to do), 1 not done before the timeout (why is printed), 2 bad arguments.
 */
public final class ScaleDownCommand {

    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<URI> endpoints;
    private final Pattern member;
    private final int keep;
    private final Duration timeout;
    private final PrintStream out;
    private final HttpClient http;
    private final String token;

    ScaleDownCommand(List<URI> endpoints, String prefix, int keep, Duration timeout, PrintStream out, String token,
                     javax.net.ssl.SSLContext ssl) {
        this.http = CtlClient.httpClient(Duration.ofSeconds(2), ssl);
        this.token = token;
        this.endpoints = endpoints;
        this.member = Pattern.compile(Pattern.quote(prefix) + "(\\d+)");
        this.keep = keep;
        this.timeout = timeout;
        this.out = out;
    }

    public static int run(String[] args, PrintStream out, PrintStream err) {
        List<URI> endpoints = new ArrayList<>();
        String prefix = null;
        Integer keep = null;
        Duration timeout = Duration.ofSeconds(120);
        String token = null;
        javax.net.ssl.SSLContext ssl = null;
        try {
            OfflineArgs line = new OfflineArgs(args);
            while (line.more()) {
                String a = line.next();
                switch (a) {
                    case "--endpoints" -> {
                        for (String e : line.value().split(",")) {
                            endpoints.add(URI.create(e.trim()));
                        }
                    }
                    case "--prefix" -> prefix = line.value();
                    case "--keep" -> keep = Integer.parseInt(line.value());
                    case "--timeout" -> timeout = Duration.parse("PT" + line.value().toUpperCase(java.util.Locale.ROOT));
                    case "--token-file" -> token = java.nio.file.Files.readString(java.nio.file.Path.of(line.value())).trim();
                    case "--cacert" -> ssl = CtlClient.trusting(java.nio.file.Path.of(line.value()));
                    case "-h", "--help" -> {
                        out.println(usage());
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unknown argument " + a);
                }
            }
            if (endpoints.isEmpty() || prefix == null || keep == null || keep < 1) {
                throw new IllegalArgumentException("--endpoints, --prefix and --keep (at least 1) are required");
            }
        } catch (RuntimeException | java.io.IOException e) {
            err.println("raftkv scale-down: " + e.getMessage());
            err.println(usage());
            return 2;
        }
        return new ScaleDownCommand(endpoints, prefix, keep, timeout, out, token, ssl).run(err);
    }

    static String usage() {
        return "usage: raftkv scale-down --endpoints URL[,URL...] --prefix NAME- --keep N [--timeout 120s]"
                + " [--token-file FILE] [--cacert FILE]\n"
                + "  removes members NAME-<i> with i >= N, highest first, each removal committed before the next";
    }

    int run(PrintStream err) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String lastProblem = "no endpoint answered";
        while (System.nanoTime() < deadline) {
            try {
                Optional<Members> m = members();
                if (m.isEmpty()) {
                    lastProblem = "no endpoint answered GET /v1/members with a leader";
                } else {
                    List<String> extra = m.get().ids.stream().filter(this::beyondKeep)
                            .sorted(Comparator.comparingInt(this::ordinal).reversed()).toList();
                    if (extra.isEmpty()) {
                        out.println("scale-down: no member with an ordinal of " + keep + " or more; members " + m.get().ids);
                        return 0;
                    }
                    String id = extra.get(0);
                    HttpResponse<String> r = send(m.get().at().resolve("/v1/members/" + id), "DELETE");
                    if (r.statusCode() / 100 == 2) {
                        out.println("scale-down: removed " + id + ": " + r.body());
                        continue; // the next one, once the list says so
                    }
                    if (r.statusCode() == 400 && r.body().contains("not a member")) {
                        Thread.sleep(200); // removed already; the endpoint asked lags the leader a little
                        continue;
                    }
                    lastProblem = "DELETE /v1/members/" + id + " answered " + r.statusCode() + ": " + r.body();
                }
            } catch (IOException e) {
                lastProblem = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
            try {
                Thread.sleep(1000); // between retries of a cluster that is electing or has a change in flight
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return 1;
            }
        }
        err.println("raftkv scale-down: not done within " + timeout + ": " + lastProblem);
        return 1;
    }

    private boolean beyondKeep(String id) {
        return ordinal(id) >= keep;
    }

    private int ordinal(String id) {
        Matcher mm = member.matcher(id);
        return mm.matches() ? Integer.parseInt(mm.group(1)) : -1;
    }

    private record Members(List<String> ids, URI at) {
    }

    /**
     * The member list as an endpoint that knows a leader sees it. An endpoint that answers without a leader (a member
     * just removed, whose pod still runs and still answers behind the Service's name) names the members it knows:
     * they are asked next, at their own URLs.
     */
    private Optional<Members> members() {
        java.util.Deque<URI> toAsk = new java.util.ArrayDeque<>(endpoints);
        java.util.Set<URI> asked = new java.util.HashSet<>();
        while (!toAsk.isEmpty()) {
            URI e = toAsk.poll();
            if (!asked.add(e)) {
                continue;
            }
            try {
                JsonNode body = JSON.readTree(send(e.resolve("/v1/members"), "GET").body());
                if (body.path("leader").asText(null) == null) {
                    body.path("members").forEach(m -> {
                        String url = m.path("url").asText(null);
                        if (url != null && !url.isEmpty()) {
                            toAsk.add(URI.create(url));
                        }
                    });
                    continue;
                }
                List<String> ids = new ArrayList<>();
                body.path("members").forEach(m -> ids.add(m.path("id").asText()));
                return Optional.of(new Members(ids, e));
            } catch (IOException | RuntimeException ex) {
                // next endpoint
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** One request, following redirects to the leader (which keep the method and the token). */
    private HttpResponse<String> send(URI uri, String method) throws IOException, InterruptedException {
        URI target = uri;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder r = CtlClient.bearer(HttpRequest.newBuilder(target).timeout(Duration.ofSeconds(10))
                    .method(method, HttpRequest.BodyPublishers.noBody()), token);
            HttpResponse<String> answer = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
            Optional<String> location = answer.headers().firstValue("Location");
            if ((answer.statusCode() != 307 && answer.statusCode() != 308) || location.isEmpty() || hop >= 3) {
                return answer;
            }
            target = target.resolve(location.get());
        }
    }
}
