package io.raftkv.api;

import io.raftkv.events.EventLog;
import io.raftkv.server.RaftkvServer;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/events?limit=N}: the newest lines of this node's event log (elections, leader changes, snapshots,
 * configuration entries...), oldest first, from memory (at most {@value EventLog#RECENT_LINES}; a restarted node's
 * include the tail of its file from before). No key or value is in them. The cluster view shows them per member.
 */
@Path("/v1/events")
public class EventsResource {

    static final int DEFAULT_LIMIT = 50;

    @Inject
    RaftkvServer server;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> events(@QueryParam("limit") String limitParam) {
        int limit = DEFAULT_LIMIT;
        if (limitParam != null && !limitParam.isEmpty()) {
            try {
                limit = Integer.parseInt(limitParam);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > EventLog.RECENT_LINES) {
                throw ProblemException.badRequest("limit must be an integer from 1 to " + EventLog.RECENT_LINES
                        + ", not '" + limitParam + "'");
            }
        }
        EventLog log = server.events();
        List<String> lines = log == null ? List.of() : log.recent(limit);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("node", server.nodeId());
        out.put("lines", lines);
        return out;
    }
}
