package io.raftkv.membership;

import io.raftkv.storage.FileSync;
import io.raftkv.storage.StorageException;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where every member is reached: id to URL. Which ids are members is the Raft configuration's business (in the log);
 * this only says how to reach them. It starts from {@code raftkv.peers} and learns the URL of every member added
 * later from the ADD_LEARNER entries of the log, and keeps what it learned in {@code <dataDir>/members} (one
 * {@code id url} per line, rewritten atomically), so that a restarted node still reaches a member added after its
 * configuration was written. The configured URL of an id wins over a learned one.
 * <p>
 * Besides its client URL a member has a peer address, where its peer listener is: the one configured
 * ({@code raftkv.peer-urls}) or learned (the {@code peer=} line of an ADD_LEARNER context, a {@code peer=} field in
 * the members file), else the one derived from its client URL ({@link PeerAddresses#derive}).
 * <p>
 * {@link #view()} is a live, read-only map: the transport, the snapshot sender and the API see additions at once.
 */
public final class MemberDirectory {

    public static final String FILE_NAME = "members";

    private final Path file;
    private final String selfId;
    private final Map<String, URI> configured;
    private final ConcurrentHashMap<String, URI> urls = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Boolean> stayLearner = new ConcurrentHashMap<>();
    private final Map<String, URI> configuredPeers;
    private final ConcurrentHashMap<String, URI> peerUrls = new ConcurrentHashMap<>();

    /** @param dataDir null: keep nothing on disk (tests) */
    public MemberDirectory(Path dataDir, String selfId, Map<String, URI> configured) {
        this(dataDir, selfId, configured, Map.of());
    }

    /** @param configuredPeers peer addresses given in the configuration (raftkv.peer-urls); others are learned or derived */
    public MemberDirectory(Path dataDir, String selfId, Map<String, URI> configured, Map<String, URI> configuredPeers) {
        this.file = dataDir == null ? null : dataDir.resolve(FILE_NAME);
        this.selfId = selfId;
        this.configured = Map.copyOf(configured);
        this.configuredPeers = Map.copyOf(configuredPeers);
        load();
        urls.putAll(this.configured);
        peerUrls.putAll(this.configuredPeers);
    }

    private void load() {
        if (file == null || !Files.exists(file)) {
            return;
        }
        try {
            int n = 0;
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                n++;
                String l = line.trim();
                if (l.isEmpty()) {
                    continue;
                }
                String[] parts = l.split(" ");
                if (parts.length < 2 || parts.length > 4) {
                    throw new StorageException(file + " line " + n + " is not 'id url [learner] [peer=address]': " + line);
                }
                urls.put(parts[0], URI.create(parts[1]));
                for (int i = 2; i < parts.length; i++) {
                    if (parts[i].equals("learner")) {
                        stayLearner.put(parts[0], true);
                    } else if (parts[i].startsWith("peer=")) {
                        peerUrls.put(parts[0], PeerAddresses.parse(parts[i].substring(5), file + " line " + n));
                    } else {
                        throw new StorageException(file + " line " + n + ": unknown field '" + parts[i] + "'");
                    }
                }
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new StorageException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public Map<String, URI> view() {
        return Collections.unmodifiableMap(urls);
    }

    public URI url(String id) {
        return id == null ? null : urls.get(id);
    }

    /** Where {@code id}'s peer listener is: configured, learned, else derived from its client URL; null if unknown. */
    public URI peerUrl(String id) {
        if (id == null) {
            return null;
        }
        URI p = peerUrls.get(id);
        if (p != null) {
            return p;
        }
        URI u = urls.get(id);
        return u == null ? null : PeerAddresses.derive(u);
    }

    public Set<String> ids() {
        return Collections.unmodifiableSet(urls.keySet());
    }

    /** Whether the member asked to stay a learner until an operator promotes it. */
    public boolean staysLearner(String id) {
        return stayLearner.getOrDefault(id, false);
    }

    /** Learns (or relearns) how to reach {@code id}, and keeps it. */
    public synchronized void learn(String id, MemberContext context) {
        URI url = configured.getOrDefault(id, context.url());
        URI peer = configuredPeers.getOrDefault(id, context.peerUrl());
        boolean changed = !url.equals(urls.get(id)) || context.stayLearner() != staysLearner(id)
                || !java.util.Objects.equals(peer, peerUrls.get(id));
        urls.put(id, url);
        if (peer != null) {
            peerUrls.put(id, peer);
        } else {
            peerUrls.remove(id);
        }
        if (context.stayLearner()) {
            stayLearner.put(id, true);
        } else {
            stayLearner.remove(id);
        }
        if (changed) {
            save();
        }
    }

    /** A learner was promoted: it no longer "stays a learner". */
    public synchronized void promoted(String id) {
        if (stayLearner.remove(id) != null) {
            save();
        }
    }

    /** {@code id} was removed from the configuration (for good: the removal is committed). */
    public synchronized void forget(String id) {
        if (id.equals(selfId) || configured.containsKey(id)) {
            return; // still reachable as configured; membership itself is decided by the log
        }
        if (urls.remove(id) != null) {
            stayLearner.remove(id);
            peerUrls.remove(id);
            save();
        }
    }

    private void save() {
        if (file == null) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(urls).forEach((id, url) -> sb.append(id).append(' ').append(url)
                .append(staysLearner(id) ? " learner" : "")
                .append(peerUrls.containsKey(id) ? " peer=" + peerUrls.get(id) : "").append('\n'));
        FileSync.writeAtomically(file, sb.toString());
    }
}
