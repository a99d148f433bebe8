package io.raftkv.membership;

import io.raftkv.cli.CtlClient;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code raftkv.join=true}: a node that is not a member of its cluster yet asks to be added, as a learner that the
 * leader promotes once it has caught up ({@code POST /v1/members} at a peer, following redirects to the leader). What
 * a chart's new replica does on a scale-up, instead of an operator.
 * <p>
 * It never adds an id that is a member already: a member back with an empty data directory is told so (400) and stays
 * out until an operator replaces it ({@code POST /v1/members/{id}/replace}): its old incarnation may be needed for a
 * quorum's data, and only an operator can decide it is gone.
 */
public final class Joiner {

    /** What one attempt found. */
    public enum Outcome {
        /** The leader accepted the change: the ADD_LEARNER entry is on its way. */
        ADDED,
        /** The id is a member already (a lost data directory: it must be replaced by an operator). */
        ALREADY_MEMBER,
        /** No leader, another change in flight, nobody reachable: try again later. */
        RETRY
    }

    public record Attempt(Outcome outcome, String detail) {
    }

    private static final int MAX_REDIRECTS = 3;
    private final String selfId;
    private final Supplier<URI> selfUrl;
    private final Supplier<URI> selfPeerUrl;
    private final Supplier<List<URI>> seeds;
    private final Supplier<Map<String, String>> headers;
    private final HttpClient http;
    private final Duration timeout;

    /**
     * @param seeds   where to ask (the configured peers other than this node)
     * @param headers added to every request (credentials, when the API requires them)
     */
    public Joiner(String selfId, Supplier<URI> selfUrl, Supplier<URI> selfPeerUrl, Supplier<List<URI>> seeds,
                  Supplier<Map<String, String>> headers, Duration timeout) {
        this(selfId, selfUrl, selfPeerUrl, seeds, headers, timeout, null);
    }

    /** @param ssl for https seeds (the CA that signed the members' client certificates), or null for the JDK's */
    public Joiner(String selfId, Supplier<URI> selfUrl, Supplier<URI> selfPeerUrl, Supplier<List<URI>> seeds,
                  Supplier<Map<String, String>> headers, Duration timeout, javax.net.ssl.SSLContext ssl) {
        this.selfId = selfId;
        this.selfUrl = selfUrl;
        this.selfPeerUrl = selfPeerUrl;
        this.seeds = seeds;
        this.headers = headers;
        this.timeout = timeout;
        this.http = CtlClient.httpClient(timeout, ssl);
    }

    /** Asks each seed in turn until one answers for the cluster. */
    public Attempt tryOnce() {
        List<String> why = new ArrayList<>();
        URI peer = selfPeerUrl.get();
        String body = "{\"id\":\"" + selfId + "\",\"url\":\"" + selfUrl.get() + "\",\"learner\":false"
                + (peer == null ? "" : ",\"peerUrl\":\"" + peer + "\"") + "}";
        for (URI seed : seeds.get()) {
            URI target = seed.resolve("/v1/members");
            try {
                for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
                    HttpRequest.Builder rb = HttpRequest.newBuilder(target).timeout(timeout)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body));
                    headers.get().forEach(rb::header);
                    HttpResponse<String> r = http.send(rb.build(), HttpResponse.BodyHandlers.ofString());
                    int sc = r.statusCode();
                    if (sc == 307 || sc == 308) {
                        String location = r.headers().firstValue("Location").orElse(null);
                        if (location == null) {
                            break;
                        }
                        target = target.resolve(location);
                        continue;
                    }
                    if (sc / 100 == 2) {
                        return new Attempt(Outcome.ADDED, "added by " + target.getAuthority() + ": " + r.body());
                    }
                    if (sc == 400 && r.body().contains("already a member")) {
                        return new Attempt(Outcome.ALREADY_MEMBER, r.body());
                    }
                    why.add(target.getAuthority() + " answered " + sc + " " + abbreviate(r.body()));
                    break;
                }
            } catch (IOException e) {
                why.add(seed.getAuthority() + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : " " + e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Attempt(Outcome.RETRY, "interrupted");
            } catch (IllegalArgumentException e) {
                why.add(seed + ": " + e.getMessage());
            }
        }
        return new Attempt(Outcome.RETRY, why.isEmpty() ? "no peer to ask (raftkv.peers names only this node)" : String.join("; ", why));
    }

    private static String abbreviate(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() <= 200 ? one : one.substring(0, 200) + "...";
    }
}
