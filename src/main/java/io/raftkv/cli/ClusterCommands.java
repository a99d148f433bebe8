package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;


import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** status, check, members, leader transfer, snapshot save. */
final class ClusterCommands {

    private final Ctl ctl;

    ClusterCommands(Ctl ctl) {
        this.ctl = ctl;
    }

    int run(String cmd, List<String> args) {
        return switch (cmd) {
            case "status" -> status(ctl.parse(args, Set.of(), Set.of()));
            case "check" -> check(ctl.parse(args, Set.of(), Set.of()));
            case "members" -> members(ctl.parse(args, Set.of(), Set.of("learner", "force")));
            case "leader" -> leader(ctl.parse(args, Set.of(), Set.of()));
            default -> new SnapshotSave(ctl).run(ctl.parse(args, Set.of("dir", "retain"), Set.of()));
        };
    }

    private int status(Args a) {
        a.expect(0, 0, "no arguments");
        ClusterView v = ClusterView.gather(ctl.client);
        if (ctl.json) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (ClusterView.Member m : v.members) {
                JsonNode s = m.status();
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("id", m.id());
                row.put("url", m.configuredUrl());
                row.put("endpoint", m.reachedAt() == null ? null : m.reachedAt().toString());
                row.put("member", m.role());
                row.put("role", s == null ? "unreachable" : s.path("role").asText());
                if (s != null) {
                    row.put("term", s.path("term").asLong());
                    row.put("leader", s.path("leader").asText(null));
                    row.put("commitIndex", s.path("commitIndex").asLong());
                    row.put("lastApplied", s.path("lastApplied").asLong());
                    row.put("firstIndex", s.path("firstIndex").asLong());
                    row.put("lag", v.lag(m));
                    row.put("kvBytes", s.path("kvBytes").asLong());
                    row.put("logBytes", s.path("logBytes").asLong());
                } else {
                    row.put("error", m.error());
                }
                out.add(row);
            }
            ctl.printJson(out);
            return Ctl.EXIT_OK;
        }
        Table t = new Table("ID", "URL", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "FIRST", "LAG", "DB SIZE", "LOG SIZE");
        for (ClusterView.Member m : v.members) {
            JsonNode s = m.status();
            String url = m.reachedAt() != null ? m.reachedAt().toString() : m.configuredUrl();
            if (s == null) {
                t.row(m.id(), url, "unreachable".equals(m.error()) ? "unreachable" : "unreachable (" + m.error() + ")", null, null, null, null, null, null, null, null);
                continue;
            }
            String role = s.path("role").asText() + (m.role().equals("learner") ? " (learner)" : "");
            t.row(m.id(), url, role, s.path("term").asLong(), s.path("leader").asText("-"), s.path("commitIndex").asLong(),
                    s.path("lastApplied").asLong(), s.path("firstIndex").asLong(), v.lag(m),
                    ClusterView.bytes(s.path("kvBytes").asLong()), ClusterView.bytes(s.path("logBytes").asLong()));
        }
        t.print(ctl.out);
        return Ctl.EXIT_OK;
    }

    private int check(Args a) {
        a.expect(0, 0, "no arguments");
        ClusterView v = ClusterView.gather(ctl.client);
        boolean healthy = v.leader != null;
        List<Map<String, Object>> rows = new ArrayList<>();
        for (ClusterView.Member m : v.members) {
            String problem = null;
            if (m.status() == null) {
                problem = "unreachable: " + m.error();
            } else {
                CtlClient.Answer ready = ctl.client.at(m.reachedAt(), "GET", "/q/health/ready", null);
                String leader = m.status().path("leader").asText(null);
                if (ready == null || ready.status() != 200) {
                    problem = "not ready" + (ready == null ? " (unreachable)" : " (" + ready.status() + ")");
                } else if (v.leader != null && !v.leader.equals(leader)) {
                    problem = "follows " + leader + ", not the leader " + v.leader;
                } else if (m.status().has("mustBeReplaced")) {
                    problem = m.status().path("mustBeReplaced").asText();
                }
            }
            healthy &= problem == null;
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", m.id());
            row.put("url", m.reachedAt() != null ? m.reachedAt().toString() : m.configuredUrl());
            row.put("healthy", problem == null);
            row.put("detail", problem == null ? "ok (" + m.status().path("role").asText() + ", applied "
                    + m.status().path("lastApplied").asLong() + ", lag " + v.lag(m) + ")" : problem);
            rows.add(row);
        }
        if (ctl.json) {
            ctl.printJson(Map.of("healthy", healthy, "leader", String.valueOf(v.leader), "members", rows));
        } else {
            Table t = new Table("ID", "URL", "HEALTH", "DETAIL");
            for (Map<String, Object> r : rows) {
                t.row(r.get("id"), r.get("url"), Boolean.TRUE.equals(r.get("healthy")) ? "healthy" : "UNHEALTHY", r.get("detail"));
            }
            t.print(ctl.out);
            ctl.out.println(healthy ? "cluster is healthy (leader " + v.leader + ")"
                    : "cluster is UNHEALTHY" + (v.leader == null ? ": no leader" : ""));
        }
        return healthy ? Ctl.EXIT_OK : Ctl.EXIT_FAILED;
    }

    private int members(Args a) {
        if (a.positional.isEmpty()) {
            throw new CtlException(Ctl.EXIT_USAGE, "members needs a subcommand: list, add, remove, promote or replace");
        }
        String sub = a.positional.get(0);
        String force = a.has("force") ? "?force=true" : "";
        CtlClient.Answer r;
        switch (sub) {
            case "list" -> {
                a.expect(1, 1, "members list");
                return membersList();
            }
            case "add" -> {
                a.expect(3, 3, "members add ID URL");
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("id", a.positional.get(1));
                body.put("url", a.positional.get(2));
                body.put("learner", a.has("learner"));
                r = ctl.client.change("POST", "/v1/members", jsonBytes(body));
            }
            case "remove" -> {
                a.expect(2, 2, "members remove ID");
                r = ctl.client.change("DELETE", "/v1/members/" + CtlClient.keyPath(a.positional.get(1)) + force, null);
            }
            case "promote" -> {
                a.expect(2, 2, "members promote ID");
                r = ctl.client.change("POST", "/v1/members/" + CtlClient.keyPath(a.positional.get(1)) + "/promote", null);
            }
            case "replace" -> {
                a.expect(2, 2, "members replace ID");
                r = ctl.client.change("POST", "/v1/members/" + CtlClient.keyPath(a.positional.get(1)) + "/replace" + force, null);
            }
            default -> throw new CtlException(Ctl.EXIT_USAGE, "unknown members subcommand '" + sub
                    + "' (list, add, remove, promote, replace)");
        }
        if (r.status() != 200) {
            throw Ctl.failure(r, "members " + sub + " " + a.positional.get(1));
        }
        JsonNode j = r.json();
        if (ctl.json) {
            ctl.printJson(j);
        } else {
            ctl.out.println(j.path("change").asText(sub) + " " + j.path("id").asText(a.positional.get(1)) + " committed at index "
                    + j.path("index").asLong() + " (term " + j.path("term").asLong() + "): voters " + j.path("voters")
                    + ", learners " + j.path("learners"));
        }
        return Ctl.EXIT_OK;
    }

    private int membersList() {
        CtlClient.Answer r = ctl.client.get("/v1/members");
        if (r.status() != 200) {
            throw Ctl.failure(r, "members list");
        }
        JsonNode j = r.json();
        if (ctl.json) {
            ctl.printJson(j);
            return Ctl.EXIT_OK;
        }
        Table t = new Table("ID", "URL", "ROLE", "LEADER");
        for (JsonNode m : j.path("members")) {
            t.row(m.path("id").asText(), m.path("url").asText("-"), m.path("role").asText(),
                    m.path("leader").asBoolean() ? "*" : "");
        }
        t.print(ctl.out);
        return Ctl.EXIT_OK;
    }

    private int leader(Args a) {
        if (a.positional.isEmpty() || !a.positional.get(0).equals("transfer")) {
            throw new CtlException(Ctl.EXIT_USAGE, "expected: leader transfer [ID]");
        }
        a.expect(1, 2, "leader transfer [ID]");
        String to = a.positional.size() > 1 ? "?to=" + CtlClient.q(a.positional.get(1)) : "";
        CtlClient.Answer r = ctl.client.change("POST", "/v1/leader/transfer" + to, null);
        if (r.status() != 200) {
            throw Ctl.failure(r, "leader transfer");
        }
        JsonNode j = r.json();
        if (ctl.json) {
            ctl.printJson(j);
        } else {
            ctl.out.println("leadership handed from " + j.path("from").asText() + " to " + j.path("to").asText()
                    + " (term " + j.path("term").asLong() + ")");
        }
        return Ctl.EXIT_OK;
    }

    static byte[] jsonBytes(Object o) {
        try {
            return CtlClient.JSON.writeValueAsBytes(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new CtlException(Ctl.EXIT_FAILED, e.getMessage());
        }
    }

}
