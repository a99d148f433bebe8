package io.raftkv.api;

import org.eclipse.microprofile.openapi.OASFactory;
import org.eclipse.microprofile.openapi.OASFilter;
import org.eclipse.microprofile.openapi.models.OpenAPI;
import org.eclipse.microprofile.openapi.models.Operation;
import org.eclipse.microprofile.openapi.models.PathItem;
import org.eclipse.microprofile.openapi.models.media.Schema;
import org.eclipse.microprofile.openapi.models.parameters.Parameter;
import org.eclipse.microprofile.openapi.models.responses.APIResponses;

import java.util.List;
import java.util.Map;

/**
 * The OpenAPI document at {@code /q/openapi} (registered as {@code mp.openapi.filter}): the client API as scanned from
 * the resources, without the peer endpoints ({@code /raft/*}, which are for members only), with each operation's
 * summary, its parameters explained, and the problem responses it can answer (RFC 9457 {@code Problem} schema).
 * Kept here rather than as annotations on the resources, so the resources stay readable.
 */
public class OpenApiDocs implements OASFilter {

    /** "METHOD path" -> summary, then the problem statuses it may answer. */
    private static final Map<String, Object[]> OPERATIONS = Map.ofEntries(
            op("PUT /v1/kv/{key}", "Set a key (the body is the value, any bytes); answers once committed and applied on "
                    + "the leader. ifVersion / ifValue make it a compare-and-set. With Raftkv-Client-Id and "
                    + "Raftkv-Request-Seq a retry is applied at most once.", 307, 400, 409, 413, 422, 429, 503, 504, 507),
            op("GET /v1/kv/{key}", "Read a key: the value as the body, its version in X-Raftkv-Version and ETag. "
                    + "Linearizable unless consistency=stale.", 307, 400, 404, 503, 504, 507),
            op("DELETE /v1/kv/{key}", "Delete a key (ifVersion / ifValue as for PUT).", 307, 400, 409, 422, 429, 503, 504, 507),
            op("GET /v1/kv", "List the keys under a prefix in key order, with version and value size.", 307, 400, 503, 504),
            op("GET /v1/watch", "Watch the puts and deletes of the keys under a prefix as Server-Sent Events, in log "
                    + "order (event put or delete, id = log index, data = {type,key,version,index,value}); resume with "
                    + "Last-Event-ID or fromIndex; progress events while idle; a final cut-off event when the watcher "
                    + "reads too slowly, its history is gone, or the node stops. Served by every member.", 400, 410, 429, 503),
            op("GET /v1/log", "This node's log entries, decoded.", 400, 503),
            op("GET /v1/status", "This node's role, term, leader (and since when), indexes, snapshot and disk use.", 503),
            op("GET /v1/events", "The newest lines of this node's event log (elections, leader changes, snapshots...).", 400),
            op("GET /v1/cluster/stream", "The cluster view as Server-Sent Events: about every 0.75 s an event view with "
                    + "every member's role, term, indexes, lags, snapshot and recent event lines, as this node sees "
                    + "them (members that do not answer are shown unreachable). What the page at /ui shows.", 429),
            op("GET /ui", "The cluster view's page, for browsers (redirects to /ui/)."),
            op("GET /v1/members", "The cluster configuration (voters and learners); on the leader with their progress.", 503),
            op("POST /v1/members", "Add a member (as a learner; promoted once caught up unless learner=true).", 307, 400, 409, 503, 504),
            op("DELETE /v1/members/{id}", "Remove a member (force=true: even below a live quorum).", 307, 400, 409, 412, 503, 504),
            op("POST /v1/members/{id}/promote", "Promote a learner to voter.", 307, 400, 409, 503, 504),
            op("POST /v1/members/{id}/replace", "Replace a member that came back with another data directory.", 307, 400, 409, 503, 504),
            op("POST /v1/snapshot", "Snapshot this node's state machine now and compact its log.", 409, 503, 507),
            op("GET /v1/snapshot", "Download this node's newest snapshot file (self-checking format, see the README).", 404, 503),
            op("POST /v1/leader/transfer", "Hand leadership to a member (to=ID) or the most up-to-date follower. A "
                    + "follower redirects, or forwards it to the leader when asked with Raftkv-Forward: leader.", 307, 400, 409, 503, 504));

    private static final Map<String, String> PARAMETERS = Map.ofEntries(
            Map.entry("key", "the key: any UTF-8 (slashes included), at most 1 KiB"),
            Map.entry("ifVersion", "only if the key's version is this (0: only if the key is absent); else 409"),
            Map.entry("ifValue", "only if the key's current value is this text; else 409"),
            Map.entry("consistency", "stale: this node's own copy, without asking the leader (default: linearizable)"),
            Map.entry("prefix", "only keys starting with this (default: all)"),
            Map.entry("limit", "at most this many"),
            Map.entry("fromIndex", "the first log index to deliver (0 or absent: from the next change)"),
            Map.entry("values", "false: leave the values out of the events"),
            Map.entry("Last-Event-ID", "resume after this log index (what an EventSource sends when it reconnects)"),
            Map.entry("Raftkv-Client-Id", "this client's session id (1-128 of A-Z a-z 0-9 . _ : -), for exactly-once writes"),
            Map.entry("Raftkv-Request-Seq", "the write's sequence number in its session: 1, 2, ...; a retry repeats it"),
            Map.entry("force", "true: do it even when it is unsafe (see the README)"),
            Map.entry("to", "the member to hand leadership to"),
            Map.entry("from", "the first log index"),
            Map.entry("id", "a member id"));

    private static final Map<Integer, String> MEANING = Map.ofEntries(
            Map.entry(307, "this node is not the leader: the same request to the Location"),
            Map.entry(400, "bad input (problem JSON says what)"),
            Map.entry(404, "no such key, member or snapshot"),
            Map.entry(409, "a condition did not hold (with currentVersion), or a change is in flight"),
            Map.entry(410, "the index asked for is no longer retained here: re-list, then watch from relistThenWatchFrom"),
            Map.entry(412, "removing this voter would leave fewer live voters than a quorum"),
            Map.entry(413, "the value is larger than raftkv.max-value-bytes"),
            Map.entry(422, "a session write refused without effect (session unknown or expired)"),
            Map.entry(429, "too much in flight; certainly not applied; Retry-After"),
            Map.entry(503, "no leader known or the node is starting/stopping; certainly not applied; Retry-After"),
            Map.entry(504, "outcome unknown within the request timeout (a retry with session headers is safe)"),
            Map.entry(507, "the node's disk is full; certainly not applied"));

    private static Map.Entry<String, Object[]> op(String key, String summary, Integer... problems) {
        return Map.entry(key, new Object[] {summary, problems});
    }

    @Override
    public void filterOpenAPI(OpenAPI api) {
        if (api.getPaths() != null && api.getPaths().getPathItems() != null) {
            for (String path : List.copyOf(api.getPaths().getPathItems().keySet())) {
                if (path.startsWith("/raft")) {
                    api.getPaths().removePathItem(path); // peer endpoints: members only, not the client API
                    continue;
                }
                PathItem item = api.getPaths().getPathItem(path);
                item.getOperations().forEach((method, operation) -> document(method.name() + " " + path, operation));
            }
        }
        if (api.getComponents() == null) {
            api.setComponents(OASFactory.createComponents());
        }
        api.getComponents().addSchema("Problem", OASFactory.createSchema().type(List.of(Schema.SchemaType.OBJECT))
                .description("RFC 9457 problem details (application/problem+json); some carry more fields")
                .addProperty("type", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)))
                .addProperty("title", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING)))
                .addProperty("status", OASFactory.createSchema().type(List.of(Schema.SchemaType.INTEGER)))
                .addProperty("detail", OASFactory.createSchema().type(List.of(Schema.SchemaType.STRING))));
    }

    private static void document(String key, Operation operation) {
        if (operation.getParameters() != null) {
            for (Parameter p : operation.getParameters()) {
                if (p.getDescription() == null && PARAMETERS.containsKey(p.getName())) {
                    p.setDescription(PARAMETERS.get(p.getName()));
                }
            }
        }
        Object[] doc = OPERATIONS.get(key);
        if (doc == null) {
            return;
        }
        operation.setSummary((String) doc[0]);
        APIResponses responses = operation.getResponses() == null ? OASFactory.createAPIResponses() : operation.getResponses();
        for (Integer status : (Integer[]) doc[1]) {
            if (responses.getAPIResponse(status.toString()) == null) {
                var r = OASFactory.createAPIResponse().description(MEANING.get(status));
                if (status != 307) {
                    r.content(OASFactory.createContent().addMediaType(Problem.MEDIA_TYPE, OASFactory.createMediaType()
                            .schema(OASFactory.createSchema().ref("#/components/schemas/Problem"))));
                }
                responses.addAPIResponse(status.toString(), r);
            }
        }
        operation.setResponses(responses);
    }
}
