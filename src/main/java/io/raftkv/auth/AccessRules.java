package io.raftkv.auth;

import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The authorization table: which {@link Access} a request needs, from its method, path and parameters. The first rule
 * whose path matches decides; a path no rule names needs {@code admin} (so a new endpoint is closed until it gets a
 * rule). Add a rule here for a new endpoint, e.g. the watch stream: {@code GET /v1/watch?prefix=P} needs read on P.
 */
public final class AccessRules {

    /** What a rule looks at: the method, the decoded path, the {key} path parameter (or null) and query parameters. */
    public record Request(String method, String path, String key, UnaryOperator<String> query) {
    }

    private interface Decision {
        Access of(Request r);
    }

    /** A path (exact, or a prefix when it ends with '/' or '*'), the methods it applies to (empty: all), and the access. */
    private record Rule(String path, Set<String> methods, Decision decision) {
        boolean matches(Request r) {
            boolean pathMatches;
            if (path.endsWith("*")) {
                pathMatches = r.path().startsWith(path.substring(0, path.length() - 1));
            } else if (path.endsWith("/")) {
                pathMatches = r.path().startsWith(path);
            } else {
                pathMatches = r.path().equals(path);
            }
            return pathMatches && (methods.isEmpty() || methods.contains(r.method()));
        }
    }

    private static final Set<String> READS = Set.of("GET", "HEAD");
    private static final Set<String> ANY = Set.of();

    private static final List<Rule> RULES = List.of(
            // Probes (kubelet, load balancers) carry no credentials.
            new Rule("/q/health*", ANY, r -> Access.NONE),
            // The API's description is no secret (what tools and people read first).
            new Rule("/q/openapi*", READS, r -> Access.NONE),
            // The cluster view's page (HTML, script, style): no data in it; it asks for a token for the stream.
            new Rule("/ui", READS, r -> Access.NONE),
            new Rule("/ui/", READS, r -> Access.NONE),
            new Rule("/v1/kv/", READS, r -> Access.read(key(r, "/v1/kv/"))),
            new Rule("/v1/kv/", Set.of("PUT", "DELETE"), r -> Access.write(key(r, "/v1/kv/"))),
            new Rule("/v1/kv", READS, r -> Access.read(r.query().apply("prefix"))),
            new Rule("/v1/watch", READS, r -> Access.read(r.query().apply("prefix"))),
            new Rule("/v1/status", READS, r -> Access.AUTHENTICATED),
            // The cluster view (every member's status and recent event-log lines) and a node's event-log lines: no
            // key or value in them, but more than a status; the read role (a read grant on any prefix).
            new Rule("/v1/cluster/stream", READS, r -> Access.READ_ROLE),
            new Rule("/v1/events", READS, r -> Access.READ_ROLE),
            // Reading the membership tells no more than /v1/status does; changing it is for admins.
            new Rule("/v1/members", READS, r -> Access.AUTHENTICATED),
            new Rule("/v1/members*", ANY, r -> Access.ADMIN),
            new Rule("/v1/leader*", ANY, r -> Access.ADMIN),
            new Rule("/v1/snapshot*", ANY, r -> Access.ADMIN),
            // The log holds every value ever written: admin only.
            new Rule("/v1/log*", ANY, r -> Access.ADMIN),
            new Rule("/q/metrics*", ANY, r -> Access.AUTHENTICATED));

    private AccessRules() {
    }

    /** The access {@code r} needs; {@code admin} for anything no rule names. */
    public static Access required(Request r) {
        for (Rule rule : RULES) {
            if (rule.matches(r)) {
                return rule.decision().of(r);
            }
        }
        return Access.ADMIN;
    }

    /** Whether {@code path} needs no credentials at all (checked before authentication). */
    public static boolean open(String path) {
        return required(new Request("GET", path, null, q -> null)).kind() == Access.Kind.NONE;
    }

    private static String key(Request r, String base) {
        return r.key() != null ? r.key() : r.path().substring(base.length());
    }
}
