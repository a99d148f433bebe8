package io.raftkv.membership;

import io.raftkv.storage.FileSync;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who this node is and who its peers are, beyond their ids: the <em>cluster id</em> (the same on every member,
 * derived at bootstrap from the initial members and {@code raftkv.cluster-token}; a joining node adopts it from the
 * first peer that talks to it) and this data directory's <em>incarnation</em> (a random id created with the
 * directory). Both travel in every peer message.
 * <p>
 * Why: a member that comes back with an empty (or another) data directory has forgotten its log and its vote. Left
 * alone it would vote like a fresh node and could help elect a leader without a committed entry, or vote twice in a
 * term. So every member's incarnation is known to every member: the leader registers, through the log (an IDENTITY
 * entry), the incarnation of each member it hears from and its own, and a replacement names the new one in its
 * ADD_LEARNER entry. Followers seldom talk to each other, so what a node has seen first-hand only counts until the
 * log says otherwise. Messages from another incarnation of a member are refused: such a member can neither vote nor
 * count toward a quorum until an operator replaces it ({@code POST /v1/members/{id}/replace}). Messages from another
 * cluster are refused too. (What no rule can save: a majority of members without the data, e.g. one that lost its
 * disk and one that never received the registrations.)
 * <p>
 * Kept in {@code <dataDir>/identity} (text, rewritten atomically and synced before a peer's first message is
 * accepted).
 */
public final class Identity {

    public static final String FILE_NAME = "identity";

    /** Why a peer message is refused. */
    public enum Refusal {
        /** From another cluster (or a node that has not learned the cluster id). */
        CLUSTER,
        /** From an id this node knows with another incarnation: a member back with another data directory. */
        INCARNATION
    }

    private final Path file;
    private volatile String clusterId;
    /** The log index of this node's forced new cluster (ForceNewCluster), or 0. */
    private volatile long forcedAt;
    private final String incarnation;
    /**
     * The voters this data directory bootstrapped with (empty for a node that joined), or null for a directory created
     * before they were recorded. The configuration in effect until the log or a snapshot holds one: recorded at the
     * first start so that a later raftkv.peers (a chart scaled up) or initial-cluster-state cannot change it.
     */
    private final java.util.List<String> bootstrapVoters;
    /** Incarnations seen first-hand (the first message of each peer). */
    private final ConcurrentHashMap<String, String> peers = new ConcurrentHashMap<>();
    /** Incarnations registered through the log (IDENTITY entries, replacements): they win over what was seen. */
    private final ConcurrentHashMap<String, String> registered = new ConcurrentHashMap<>();
    /** Incarnations presented by peers whose messages were refused (what a replacement would accept). */
    private final ConcurrentHashMap<String, String> presented = new ConcurrentHashMap<>();

    private Identity(Path file, String clusterId, String incarnation, java.util.List<String> bootstrapVoters) {
        this.file = file;
        this.clusterId = clusterId;
        this.incarnation = incarnation;
        this.bootstrapVoters = bootstrapVoters == null ? null : java.util.List.copyOf(bootstrapVoters);
    }

    /**
     * Opens the identity of the data directory, creating it on the directory's first start: with the bootstrap cluster
     * id for a new cluster ({@code bootstrapIds} non-empty), without one for a joining node (it adopts its cluster's).
     */
    public static Identity open(Path dataDir, Collection<String> bootstrapIds, String clusterToken) {
        Path file = dataDir.resolve(FILE_NAME);
        try {
            Files.createDirectories(dataDir);
        } catch (IOException e) {
            throw new StorageException("cannot create data directory " + dataDir + ": " + e, e);
        }
        if (Files.exists(file)) {
            return load(file);
        }
        String cluster = bootstrapIds.isEmpty() ? null : clusterIdFor(bootstrapIds, clusterToken);
        Identity id = new Identity(file, cluster, UUID.randomUUID().toString(),
                new java.util.TreeSet<>(bootstrapIds).stream().toList());
        id.save();
        return id;
    }

    /** The cluster id of a cluster bootstrapped with these member ids and token: a hash, the same on every member. */
    public static String clusterIdFor(Collection<String> ids, String token) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            d.update(("raftkv-cluster\n" + token + "\n" + String.join(",", new java.util.TreeSet<>(ids)))
                    .getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Identity load(Path file) {
        Map<String, String> kv = new TreeMap<>();
        Map<String, String> peers = new TreeMap<>();
        Map<String, String> registered = new TreeMap<>();
        try {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                if (line.isBlank()) {
                    continue;
                }
                int eq = line.indexOf('=');
                if (eq <= 0) {
                    throw new StorageException(file + " line " + n + " is not key=value: " + line);
                }
                String k = line.substring(0, eq);
                String v = line.substring(eq + 1);
                if (k.startsWith("peer.")) {
                    peers.put(k.substring(5), v);
                } else if (k.startsWith("registered.")) {
                    registered.put(k.substring(11), v);
                } else {
                    kv.put(k, v);
                }
            }
        } catch (IOException e) {
            throw new StorageException("cannot read " + file + ": " + e, e);
        }
        String inc = kv.get("incarnation");
        if (inc == null || inc.isBlank()) {
            throw new StorageException(file + " has no incarnation: the file is damaged; it was left as it is");
        }
        String cluster = kv.get("cluster");
        String bootstrap = kv.get("bootstrap");
        java.util.List<String> voters = bootstrap == null ? null
                : java.util.Arrays.stream(bootstrap.split(",")).filter(v -> !v.isBlank()).toList();
        Identity id = new Identity(file, cluster == null || cluster.isBlank() ? null : cluster, inc, voters);
        id.peers.putAll(peers);
        id.registered.putAll(registered);
        String forced = kv.get("forced");
        if (forced != null && !forced.isBlank()) {
            try {
                id.forcedAt = Long.parseLong(forced.trim());
            } catch (NumberFormatException e) {
                throw new StorageException(file + " has a damaged forced= line: " + forced);
            }
        }
        return id;
    }

    public String clusterId() {
        return clusterId;
    }

    public String incarnation() {
        return incarnation;
    }

    /** The voters this directory bootstrapped with (empty: it joined), or null if not recorded (an older directory). */
    public java.util.List<String> bootstrapVoters() {
        return bootstrapVoters;
    }

    /** The incarnation this node expects of {@code peer} (registered, else seen), or null if it knows none. */
    public String peerIncarnation(String peer) {
        String r = registered.get(peer);
        return r != null ? r : peers.get(peer);
    }

    /** The incarnation the log registered for {@code peer}, or null: a leader registers the ones it sees. */
    public String registeredIncarnation(String peer) {
        return registered.get(peer);
    }

    /** An IDENTITY entry (or a replacement) was applied: {@code peer} is that incarnation, for every member. */
    public synchronized void register(String peer, String peerIncarnation) {
        if (!peerIncarnation.equals(registered.get(peer))) {
            registered.put(peer, peerIncarnation);
            if (peerIncarnation.equals(presented.get(peer))) {
                presented.remove(peer);
            }
            save();
        }
    }

    /** The data of an IDENTITY entry: the member's id and incarnation, as UTF-8 {@code id\nincarnation}. */
    public static byte[] encodeRegistration(String peer, String peerIncarnation) {
        return (peer + "\n" + peerIncarnation).getBytes(StandardCharsets.UTF_8);
    }

    /** {@link #encodeRegistration}'s id and incarnation; IllegalArgumentException if it is not one. */
    public static String[] decodeRegistration(byte[] data) {
        String[] parts = new String(data, StandardCharsets.UTF_8).split("\n", -1);
        if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new IllegalArgumentException("not an identity registration (" + data.length + " bytes)");
        }
        return parts;
    }

    /** The incarnation {@code peer} presented when its messages were refused, or null. */
    public String presentedIncarnation(String peer) {
        return presented.get(peer);
    }

    /**
     * Whether a message from {@code peer} claiming {@code cluster} and {@code peerIncarnation} is accepted (null) or
     * refused (why). The first incarnation seen of a peer is remembered, durably, before the message is accepted.
     */
    public synchronized Refusal admit(String peer, String cluster, String peerIncarnation) {
        if (cluster == null || peerIncarnation == null || peerIncarnation.isBlank()) {
            return Refusal.CLUSTER;
        }
        if (clusterId == null) {
            clusterId = cluster; // a joining node: its cluster is the one that talks to it
            save();
        } else if (!clusterId.equals(cluster)) {
            return Refusal.CLUSTER;
        }
        String known = peerIncarnation(peer);
        if (known == null) {
            peers.put(peer, peerIncarnation);
            save();
            return null;
        }
        if (!known.equals(peerIncarnation)) {
            presented.put(peer, peerIncarnation);
            return Refusal.INCARNATION;
        }
        return null;
    }

    /** A membership change names {@code peer}'s incarnation (a replacement): accept that one from now on. */
    public synchronized void expect(String peer, String peerIncarnation) {
        if (!peerIncarnation.equals(peers.get(peer)) || !peerIncarnation.equals(registered.get(peer))) {
            peers.put(peer, peerIncarnation);
            registered.put(peer, peerIncarnation);
            presented.remove(peer);
            save();
        }
    }

    /**
     * This node forced a new cluster from its data (at log index {@code index}, see ForceNewCluster): the cluster gets a
     * new id, derived from the old one, so members that still hold the old cluster's data are refused, and every peer
     * incarnation is forgotten (the members added back are new ones).
     */
    public synchronized void forceNewCluster(long index) {
        forcedAt = Math.max(forcedAt, index);
        clusterId = clusterIdFor(java.util.List.of(String.valueOf(clusterId), "forced@" + index, incarnation), "force-new-cluster");
        peers.clear();
        registered.clear();
        presented.clear();
        save();
    }

    /** The log index at which this node forced a new cluster, or 0: registrations before it are of the old one. */
    public long forcedAt() {
        return forcedAt;
    }

    /** Every member but {@code keep} left the configuration (a forced new cluster): forget their incarnations. */
    public synchronized void forgetAllBut(String keep) {
        boolean changed = peers.keySet().removeIf(p -> !p.equals(keep));
        changed |= registered.keySet().removeIf(p -> !p.equals(keep));
        presented.keySet().removeIf(p -> !p.equals(keep));
        if (changed) {
            save();
        }
    }

    /** {@code peer} left the configuration: a later member of that id is a new one. */
    public synchronized void forget(String peer) {
        boolean changed = peers.remove(peer) != null;
        changed |= registered.remove(peer) != null;
        if (changed) {
            save();
        }
    }

    private synchronized void save() {
        StringBuilder sb = new StringBuilder();
        sb.append("cluster=").append(clusterId == null ? "" : clusterId).append('\n');
        sb.append("incarnation=").append(incarnation).append('\n');
        if (forcedAt > 0) {
            sb.append("forced=").append(forcedAt).append('\n');
        }
        if (bootstrapVoters != null) {
            sb.append("bootstrap=").append(String.join(",", bootstrapVoters)).append('\n');
        }
        new TreeMap<>(peers).forEach((p, inc) -> sb.append("peer.").append(p).append('=').append(inc).append('\n'));
        new TreeMap<>(registered).forEach((p, inc) -> sb.append("registered.").append(p).append('=').append(inc).append('\n'));
        FileSync.writeAtomically(file, sb.toString());
    }
}
