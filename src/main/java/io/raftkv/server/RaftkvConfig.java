package io.raftkv.server;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/**
 * Node configuration: application.properties keys {@code raftkv.*}, or environment variables {@code RAFTKV_*} (e.g.
 * {@code RAFTKV_NODE_ID}, {@code RAFTKV_PEERS}). The defaults run node1 of the local 3-node cluster.
 */
@ConfigMapping(prefix = "raftkv")
public interface RaftkvConfig {

    /** This node's id; must appear in {@link #peers()}. */
    @WithDefault("node1")
    String nodeId();

    /** Every cluster member as {@code id=url}, comma separated, this node included. */
    @WithDefault("node1=http://127.0.0.1:8001,node2=http://127.0.0.1:8002,node3=http://127.0.0.1:8003")
    String peers();

    /** This node's URL as peers and clients reach it; defaults to its entry in {@link #peers()}. */
    Optional<String> advertiseUrl();

    /** Where the node keeps its Raft log (wal/ or raft-log.db), kv.db and events.log; defaults to {@code data/<node-id>}. */
    Optional<String> dataDir();

    /**
     * How the Raft log and hard state are stored: {@code segmented} (a write-ahead log of segment files in
     * {@code wal/}, one fdatasync per write) or {@code mapdb} (raft-log.db). A data directory holding the other kind's
     * log is refused at startup.
     */
    @WithDefault("segmented")
    String logStore();

    /** Size of each preallocated segment file of the segmented log store, in bytes. */
    @WithDefault("67108864")
    long walSegmentBytes();

    /** Length of one logical tick of the Raft core. */
    @WithDefault("10ms")
    Duration tick();

    /** How often the leader sends heartbeats (rounded to ticks). */
    @WithDefault("50ms")
    Duration heartbeatInterval();

    /** Base election timeout (rounded to ticks); each election waits a random time between it and twice it. */
    @WithDefault("500ms")
    Duration electionTimeout();

    /** How long a client request waits for commit (and a peer request for delivery). */
    @WithDefault("5s")
    Duration requestTimeout();

    /** How often applied state is flushed to kv.db (the log is always durable first; a crash replays the tail). */
    @WithDefault("1s")
    Duration applyFlushInterval();

    /** Largest key, in UTF-8 bytes (larger: 400). */
    @WithDefault("1024")
    int maxKeyBytes();

    /** Largest value, in bytes (larger: 413). */
    @WithDefault("1048576")
    int maxValueBytes();

    /** Entry bytes per AppendEntries message. */
    @WithDefault("1048576")
    long maxMessageBytes();

    /** Unacknowledged AppendEntries per peer (pipelining depth). */
    @WithDefault("256")
    int maxInflight();

    /** Take a snapshot (and compact the log) once this many entries were applied since the last one. */
    @WithDefault("100000")
    long snapshotThreshold();

    /** ... or once this many bytes of entries were written to the log since the last one. */
    @WithDefault("134217728")
    long snapshotThresholdBytes();

    /** Entries kept in the log behind a snapshot, so a follower that lags a little catches up without a snapshot. */
    @WithDefault("10000")
    long snapshotLogMargin();

    /** Chunk size of a snapshot sent to a follower, in bytes. */
    @WithDefault("1048576")
    int snapshotChunkBytes();

    /**
     * Below this many free bytes on the data directory's file system the node writes no more log or snapshots and
     * stops acknowledging; it resumes by itself once twice this much is free.
     */
    @WithDefault("67108864")
    long minFreeDiskBytes();

    /** How often the node checks whether a snapshot is due (read by the scheduler; declared so that it validates). */
    @WithDefault("5s")
    Duration snapshotCheckInterval();

    /** How often the node checks its free disk space (more often on the write path). */
    @WithDefault("1s")
    Duration diskCheckInterval();

    /** Writes in flight on a node (queued, proposed, not yet answered); beyond it writes answer 429 unproposed. */
    @WithDefault("4096")
    int maxPendingWrites();

    /** ... and the bound on their bytes. */
    @WithDefault("67108864")
    long maxPendingWriteBytes();

    /**
     * {@code new}: on its first start this node bootstraps the cluster of {@code raftkv.peers}; {@code existing}: it
     * joins a running cluster, waiting (never campaigning) until a member adds it (etcd's name for the same switch).
     */
    @WithDefault("new")
    String initialClusterState();

    /**
     * Disaster recovery for a cluster that lost its quorum for good: this member, on its own data, becomes the only
     * voter of a new cluster (its log's uncommitted tail included); then add the others back with empty data. Acts
     * once per data directory (see io.raftkv.membership.ForceNewCluster). Unsafe while other members are alive.
     */
    @WithDefault("false")
    boolean forceNewCluster();

    /**
     * A node that is not a member yet asks a peer to add it (POST /v1/members, as a learner promoted once caught up),
     * every {@code raftkv.join-interval}: what a chart's new replica does. Never for an id that is a member already.
     */
    @WithDefault("false")
    boolean join();

    /**
     * A follower passes client writes on to the leader and answers with the leader's answer, instead of a 307 redirect
     * (for clients that cannot follow redirects). Off by default: a redirect costs the client one round trip, a
     * forwarded write costs this node a connection and the wait.
     */
    @WithDefault("false")
    boolean forwardWrites();

    /** A file holding an admin token, sent by a joining node when the API requires authentication. */
    java.util.Optional<String> joinTokenFile();

    /** A PEM file of the CA to trust for the other members' HTTPS, when client TLS is on (else the JDK's CAs). */
    java.util.Optional<String> joinCacert();

    /** How often a joining node asks to be added (read by the scheduler; declared so that it validates). */
    @WithDefault("2s")
    Duration joinInterval();

    /** Promote a learner to voter once it has caught up (unless it was added with "learner": true). */
    @WithDefault("true")
    boolean autoPromote();

    /**
     * Part of the cluster id a new cluster derives at bootstrap (with its members' ids): give two clusters of the same
     * member ids different tokens so that neither ever accepts the other's messages.
     */
    @WithDefault("raftkv")
    String clusterToken();

    /** Watch ({@code GET /v1/watch}): recent events kept in memory per node (older ones are read back from the log). */
    @WithDefault("10000")
    int watchHistoryEvents();

    /** ... and at most about this many bytes of them. */
    @WithDefault("67108864")
    long watchHistoryBytes();

    /** Events queued for one watcher that its connection has not taken yet; one more and it is cut off. */
    @WithDefault("1024")
    int watchBufferEvents();

    /** Watchers one node serves at once (more: 429). */
    @WithDefault("1024")
    int watchMaxWatchers();

    /** How often an idle watch gets a progress event (the index it has seen everything through) to resume after. */
    @WithDefault("5s")
    Duration watchProgressInterval();
    /**
     * Where members' peer listeners are, as {@code id=host:port} (comma separated), for members whose peer listener
     * is not on their client URL's host at the client port + 1000 (the default).
     */
    java.util.Optional<String> peerUrls();

    /** The port of this node's peer listener; defaults to the port of its peer address (client port + 1000). */
    Optional<Integer> peerPort();

    /** The interface the peer listener binds. */
    @WithDefault("0.0.0.0")
    String peerHost();

    /**
     * Mutual TLS on the peer channel (the default): every node presents a certificate of the cluster's CA naming its
     * node id, and takes connections only from such certificates. {@code false} is for experiments only: anyone who
     * reaches the peer port can then speak for any member.
     */
    @WithDefault("true")
    boolean peerTls();

    /** Where the peer TLS files are, unless given one by one: {@code ca.crt}, {@code <node-id>.crt}, {@code <node-id>.key}. */
    @WithDefault("data/tls")
    String peerTlsDir();

    /** This node's certificate (PEM); defaults to {@code <peer-tls-dir>/<node-id>.crt}. */
    Optional<String> peerTlsCert();

    /** This node's private key (PEM, PKCS#8); defaults to {@code <peer-tls-dir>/<node-id>.key}. */
    Optional<String> peerTlsKey();

    /** The cluster CA's certificate (PEM); defaults to {@code <peer-tls-dir>/ca.crt}. */
    Optional<String> peerTlsCa();

    /** The largest frame the peer listener takes, in bytes; a longer one closes the connection. */
    @WithDefault("33554432")
    int peerMaxFrameBytes();
}
