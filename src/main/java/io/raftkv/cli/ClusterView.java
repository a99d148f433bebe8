package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every member says of itself: the configuration (GET /v1/members from any endpoint, the leader's answer when
 * it can be had) and each member's GET /v1/status, fetched from the endpoints given and, for members not among them,
 * from the member's own URL. Used by {@code raftkvctl status}/{@code check} and by the nodes' cluster view
 * ({@code io.raftkv.ui}), which asks through its own node and reaches the other members at their client URLs.
 */
public final class ClusterView {

    /** One member: its id, the URL it was reached at (or its configured URL), its status (null: unreachable). */
    public record Member(String id, String configuredUrl, String role, URI reachedAt, JsonNode status, String error) {
    }

    final List<Member> members = new ArrayList<>();
    JsonNode configuration;
    String leader;
    long leaderCommit = -1;

    public static ClusterView gather(CtlClient client) {
        return gather(client, u -> u);
    }

    /**
     * As {@link #gather(CtlClient)}; {@code clientUrl} maps a member's configured URL to the one to ask it at (with
     * client TLS on: its HTTPS URL).
     */
    public static ClusterView gather(CtlClient client, java.util.function.UnaryOperator<URI> clientUrl) {
        ClusterView v = new ClusterView();
        Map<String, JsonNode> statusById = new LinkedHashMap<>();
        Map<String, URI> reachedAt = new LinkedHashMap<>();
        Map<URI, String> endpointErrors = new LinkedHashMap<>();
        for (URI e : client.endpoints()) {
            CtlClient.Answer a = client.at(e, "GET", "/v1/status", null);
            if (a == null || a.status() != 200) {
                endpointErrors.put(e, a == null ? "unreachable" : a.problem());
                continue;
            }
            JsonNode s = a.json();
            statusById.putIfAbsent(s.path("id").asText(), s);
            reachedAt.putIfAbsent(s.path("id").asText(), e);
        }
        for (URI e : client.endpoints()) {
            CtlClient.Answer a = client.at(e, "GET", "/v1/members", null);
            if (a != null && a.status() == 200) {
                JsonNode m = a.json();
                if (v.configuration == null || m.has("configChangePending")) {
                    v.configuration = m; // the leader's answer has its followers' progress
                }
            }
        }
        if (v.configuration == null) {
            throw new CtlException(Ctl.EXIT_UNAVAILABLE, "no endpoint answered GET /v1/members: " + endpointErrors);
        }
        v.leader = v.configuration.path("leader").isNull() ? null : v.configuration.path("leader").asText(null);
        for (JsonNode m : v.configuration.path("members")) {
            String id = m.path("id").asText();
            String url = m.path("url").asText(null);
            JsonNode s = statusById.get(id);
            URI at = reachedAt.get(id);
            String error = null;
            if (s == null && url != null) {
                URI u = clientUrl.apply(URI.create(url));
                CtlClient.Answer a = client.at(u, "GET", "/v1/status", null);
                if (a != null && a.status() == 200) {
                    s = a.json();
                    at = u;
                } else {
                    error = a == null ? "unreachable" : a.problem();
                }
            }
            v.members.add(new Member(id, url, m.path("role").asText(), at, s, error));
        }
        for (Member m : v.members) {
            if (m.id().equals(v.leader) && m.status() != null) {
                v.leaderCommit = m.status().path("commitIndex").asLong();
            }
        }
        return v;
    }

    public List<Member> members() {
        return members;
    }

    /** The configuration as GET /v1/members answered it (the leader's answer when it could be had). */
    public JsonNode configuration() {
        return configuration;
    }

    /** The leader as the configuration's answer names it (null: none known). */
    public String leader() {
        return leader;
    }

    /** Entries the member has still to apply of what the leader committed (null when either is unknown). */
    public Long lag(Member m) {
        if (m.status() == null || leaderCommit < 0) {
            return null;
        }
        return Math.max(0, leaderCommit - m.status().path("lastApplied").asLong());
    }

    public Member member(String id) {
        for (Member m : members) {
            if (m.id().equals(id)) {
                return m;
            }
        }
        return null;
    }

    /** Where to reach the leader (as an endpoint given, or at its configured URL). */
    URI leaderUrl() {
        Member l = leader == null ? null : member(leader);
        if (l == null) {
            throw new CtlException(Ctl.EXIT_UNAVAILABLE, "no leader is known (an election may be under way): try again");
        }
        return l.reachedAt() != null ? l.reachedAt() : URI.create(l.configuredUrl());
    }

    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
