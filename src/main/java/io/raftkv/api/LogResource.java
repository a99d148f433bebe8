package io.raftkv.api;

import io.raftkv.inspect.EntryView;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.server.RaftkvServer;
import io.raftkv.snapshot.KvNodeSnapshots;
import io.raftkv.storage.RaftLogStore;
import jakarta.inject.Inject;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /v1/log?from=N&limit=M}: the entries this node's log store holds (durable ones), decoded as the offline
 * dump decodes them ({@link EntryView}), with the log's bounds after compaction, the stored hard state and the newest
 * snapshot. Read on a worker thread straight from the log store in small batches (each holds the store's lock for
 * one short read), never through the Raft loop, and bounded: at most {@value #MAX_LIMIT} entries and about
 * {@value #MAX_BYTES} bytes of entry data per request; {@code more} and {@code next} say where to go on.
 */
@Path("/v1/log")
public class LogResource {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    static final long MAX_BYTES = 8L << 20;
    private static final int BATCH = 64;
    private static final long BATCH_BYTES = 1L << 20;

    @Inject
    RaftkvServer server;

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Map<String, Object> log(@QueryParam("from") String fromParam, @QueryParam("limit") String limitParam) {
        long from = parse(fromParam, "from", 1, Long.MAX_VALUE, 0);
        int limit = (int) parse(limitParam, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
        RunningNode.of(server);
        RaftLogStore store = server.logStore();
        KvNodeSnapshots snaps = server.snapshots();
        if (store == null || snaps == null) {
            throw new ProblemException(Problem.unavailable("the node is starting or stopping"));
        }
        long first = store.firstIndex();
        long last = store.lastIndex();
        HardState hs = store.hardState();
        SnapshotMeta snap = snaps.latest();
        long next = Math.max(from == 0 ? first : from, first);
        long start = next;
        List<Map<String, Object>> entries = new ArrayList<>();
        long bytes = 0;
        int retries = 0;
        while (entries.size() < limit && bytes < MAX_BYTES && next <= store.lastIndex()) {
            long hi = Math.min(store.lastIndex() + 1, next + Math.min(BATCH, limit - entries.size()));
            List<Entry> batch;
            try {
                batch = store.entries(next, hi, BATCH_BYTES);
            } catch (IndexOutOfBoundsException e) {
                // compacted (or reset to a snapshot) between two reads: start over at the new first index
                if (!entries.isEmpty() || ++retries > 3) {
                    break;
                }
                first = store.firstIndex();
                last = store.lastIndex();
                next = Math.max(next, first);
                start = next;
                continue;
            }
            for (Entry e : batch) {
                entries.add(EntryView.of(e).json());
                bytes += e.sizeInBytes();
                next = e.index() + 1;
            }
            last = Math.max(last, store.lastIndex());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("node", server.nodeId());
        out.put("firstIndex", first);
        out.put("lastIndex", last);
        out.put("term", hs.term());
        out.put("votedFor", hs.votedFor());
        out.put("commitIndex", hs.commit());
        out.put("snapshot", KvResource.body("index", snap.index(), "term", snap.term()));
        out.put("from", start);
        out.put("entries", entries);
        out.put("next", next);
        out.put("more", next <= store.lastIndex());
        return out;
    }

    private static long parse(String s, String name, long min, long max, long dflt) {
        if (s == null || s.isEmpty()) {
            return dflt;
        }
        try {
            long v = Long.parseLong(s);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ProblemException.badRequest(name + " must be an integer from " + min + " to " + max + ", not '" + s + "'");
    }
}
