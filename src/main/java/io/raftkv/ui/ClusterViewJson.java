package io.raftkv.ui;

import com.fasterxml.jackson.databind.JsonNode;
import io.raftkv.cli.ClusterView;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON of one cluster view as the page gets it: who assembled it and when, the leader (since when, in which
 * term), and per member its configuration role, what its own status says (or why it could not be had), its lags
 * behind the leader and its recent event-log lines. Built from a {@link ClusterView}; no I/O here.
 */
final class ClusterViewJson {

    /**
     * A member's recent event-log lines, or why they could not be had; when it does not answer, the lines last had
     * from it (as of {@code asOf}) with the error saying so.
     */
    record Events(List<String> lines, String error, Instant asOf) {
    }

    private ClusterViewJson() {
    }

    /** The view when gathering failed as a whole (this node could not say who the members are). */
    static Map<String, Object> failed(String observer, Instant at, Map<String, Object> viewer, String error) {
        Map<String, Object> out = head(observer, at, viewer);
        out.put("error", error);
        out.put("leader", null);
        out.put("members", List.of());
        return out;
    }

    static Map<String, Object> of(String observer, Instant at, Map<String, Object> viewer, ClusterView v,
                                  Map<String, Events> events) {
        Map<String, Object> out = head(observer, at, viewer);
        ClusterView.Member leader = v.leader() == null ? null : v.member(v.leader());
        JsonNode leaderStatus = leader == null ? null : leader.status();
        ClusterView.Member self = v.member(observer);
        JsonNode observerStatus = self == null ? null : self.status();
        out.put("leader", v.leader());
        out.put("term", v.configuration().path("term").asLong());
        // when the leader took office, as it says itself; else when this node learned of it
        String since = text(leaderStatus, "leaderSince");
        if (since == null && observerStatus != null && v.leader() != null
                && v.leader().equals(text(observerStatus, "leader"))) {
            since = text(observerStatus, "leaderSince");
        }
        out.put("leaderSince", since);
        out.put("leaderCommit", leaderStatus == null ? null : leaderStatus.path("commitIndex").asLong());
        out.put("leaderLastIndex", leaderStatus == null ? null : leaderStatus.path("lastIndex").asLong());
        JsonNode pending = v.configuration().get("configChangePending");
        out.put("configChangePending", pending == null ? null : pending.asBoolean());
        List<Map<String, Object>> members = new ArrayList<>();
        for (ClusterView.Member m : v.members()) {
            members.add(member(v, m, leaderStatus, events.get(m.id())));
        }
        out.put("members", members);
        return out;
    }

    private static Map<String, Object> member(ClusterView v, ClusterView.Member m, JsonNode leaderStatus, Events ev) {
        Map<String, Object> out = new LinkedHashMap<>();
        JsonNode s = m.status();
        out.put("id", m.id());
        out.put("url", m.configuredUrl());
        out.put("membership", m.role()); // voter or learner, as the configuration says
        out.put("reachable", s != null);
        out.put("error", s == null ? (m.error() == null ? "unreachable" : m.error()) : null);
        out.put("role", s == null ? "unreachable" : s.path("role").asText());
        if (s != null) {
            for (String f : List.of("term", "commitIndex", "lastApplied", "firstIndex", "lastIndex")) {
                out.put(f, s.has(f) ? s.get(f).asLong() : null);
            }
            out.put("leader", text(s, "leader"));
            out.put("leaderSince", text(s, "leaderSince"));
            out.put("snapshot", s.get("snapshot"));
            out.put("logBytes", s.has("logBytes") ? s.get("logBytes").asLong() : null);
            out.put("kvBytes", s.has("kvBytes") ? s.get("kvBytes").asLong() : null);
            out.put("keys", s.has("keys") ? s.get("keys").asLong() : null);
            out.put("storage", text(s, "storage"));
            out.put("runtime", text(s, "runtime"));
        }
        out.put("applyLag", v.lag(m)); // entries the leader committed that it has not applied yet
        // replication, as the leader tracks it: how far its log is behind the leader's
        JsonNode p = leaderStatus == null ? null : leaderStatus.path("peers").get(m.id());
        if (p != null) {
            long match = p.path("matchIndex").asLong();
            out.put("matchIndex", match);
            out.put("replicationLag", Math.max(0, leaderStatus.path("lastIndex").asLong() - match));
            out.put("replicationState", text(p, "state"));
            out.put("recentActive", p.path("recentActive").asBoolean());
        } else {
            out.put("matchIndex", null);
            out.put("replicationLag", m.id().equals(v.leader()) ? 0L : null);
            out.put("replicationState", null);
            out.put("recentActive", null);
        }
        out.put("events", ev == null ? List.of() : ev.lines());
        out.put("eventsError", ev == null ? (s == null ? null : "not asked") : ev.error());
        return out;
    }

    private static Map<String, Object> head(String observer, Instant at, Map<String, Object> viewer) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("observer", observer);
        out.put("at", at.toString());
        out.put("viewer", viewer);
        return out;
    }

    private static String text(JsonNode n, String field) {
        if (n == null) {
            return null;
        }
        JsonNode f = n.get(field);
        return f == null || f.isNull() ? null : f.asText();
    }
}
