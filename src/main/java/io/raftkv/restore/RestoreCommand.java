package io.raftkv.restore;

import io.raftkv.cli.OfflineArgs;
import io.raftkv.membership.ForceNewCluster;
import io.raftkv.membership.Identity;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.snapshot.SnapshotFileReader;
import io.raftkv.snapshot.SnapshotHeader;
import io.raftkv.snapshot.SnapshotInfo;
import io.raftkv.snapshot.SnapshotReceiver;
import io.raftkv.snapshot.SnapshotStore;
import io.raftkv.storage.MapDbFiles;
import io.raftkv.storage.RaftLogStore;
import io.raftkv.storage.RaftLogStores;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * {@code raftkv restore FILE --data-dir DIR --node-id ID}: makes DIR, which must be empty, the data directory of the
 * only member of a new cluster whose state is the snapshot in FILE (one saved with {@code raftkvctl snapshot save} or
 * by the chart's backup job). The snapshot is checked (format, record count, CRC-32C) and installed as the node's
 * newest snapshot, the log is started right after it (its term and index), the node gets a new identity, and a CONFIG
 * entry makes ID the only voter (as {@code raftkv.force-new-cluster} does on a survivor's data, see
 * {@link ForceNewCluster}). Started on DIR, the node elects itself, loads the snapshot and serves it; the other
 * members are then added as new members with empty data directories ({@code raftkv.initial-cluster-state=existing}
 * with {@code raftkv.join}, or {@code raftkvctl members add}), and catch up from its snapshot.
 * <p>
 * Nothing of the snapshot's old cluster carries over but the data and the client sessions: not its members, its
 * cluster id or its incarnations, so a member of the old cluster that still runs is refused by the new one.
 * <p>
 * {@code --if-empty} makes a DIR that already holds data a success with nothing done (an init container of a pod
 * that restarts); {@code --only ID2} does nothing unless ID is ID2 (the first pod of a StatefulSet restores, the
 * others join it). Exit status: 0 done or nothing to do, 1 the restore failed (damaged file, I/O), 2 bad arguments
 * or a data directory that is not empty.
 */
public final class RestoreCommand {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    static final String USAGE_TEXT = """
            usage: raftkv restore FILE --data-dir DIR --node-id ID [--log-store segmented|mapdb] [--cluster-token T]
                                       [--if-empty] [--only ID]

            Starts a new one-member cluster from a snapshot file: DIR (empty) becomes the data directory of member ID,
            holding the snapshot's keys, values and client sessions. Start the node on DIR, then add the other members
            with empty data directories (raftkv.initial-cluster-state=existing and raftkv.join, or raftkvctl members add).

              --data-dir DIR        the new member's data directory; must be empty or missing
              --node-id ID          the new member's id (its raftkv.node-id)
              --log-store KIND      the log store the node will run with (raftkv.log-store; default segmented)
              --cluster-token T     the node's raftkv.cluster-token, if it sets one
              --if-empty            DIR already holds data: do nothing, exit 0 (an init container on a restart)
              --only ID             do nothing unless --node-id is ID (every pod runs it, the first restores)

            exit status: 0 restored or nothing to do, 1 failed (a damaged snapshot, I/O), 2 bad arguments or DIR not empty
            """;

    private RestoreCommand() {
    }

    /** Runs the command with {@code args} (after the word {@code restore}); returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Path file = null;
        Path dir = null;
        String nodeId = null;
        String only = null;
        String logStore = "segmented";
        String token = "";
        boolean ifEmpty = false;
        try {
            OfflineArgs line = new OfflineArgs(args);
            while (line.more()) {
                String a = line.next();
                switch (a) {
                    case "-h", "--help" -> {
                        out.print(USAGE_TEXT);
                        return OK;
                    }
                    case "--data-dir" -> dir = Path.of(line.value());
                    case "--node-id" -> nodeId = line.value();
                    case "--only" -> only = line.value();
                    case "--log-store" -> logStore = line.value();
                    case "--cluster-token" -> token = line.value();
                    case "--if-empty" -> ifEmpty = true;
                    default -> {
                        if (a.startsWith("-") || file != null) {
                            throw new IllegalArgumentException("unexpected argument " + a);
                        }
                        file = Path.of(a);
                    }
                }
            }
            if (file == null || dir == null || nodeId == null || nodeId.isBlank()) {
                throw new IllegalArgumentException("FILE, --data-dir and --node-id are required");
            }
            RaftLogStores.Kind.parse(logStore);
        } catch (IllegalArgumentException e) {
            err.println("raftkv restore: " + e.getMessage());
            err.print(USAGE_TEXT);
            return USAGE;
        }
        if (only != null && !only.equals(nodeId)) {
            out.println("restore: nothing to do for " + nodeId + " (only " + only + " restores; the others join it)");
            return OK;
        }
        try {
            if (holdsAnything(dir)) {
                if (ifEmpty) {
                    out.println("restore: " + dir + " already holds data; nothing done (--if-empty)");
                    return OK;
                }
                err.println("raftkv restore: refusing: " + dir + " is not empty (a restore starts a new member; move"
                        + " or delete what is there first)");
                return USAGE;
            }
            out.println(restore(file, dir, nodeId, RaftLogStores.Kind.parse(logStore), token));
            return OK;
        } catch (IOException | RuntimeException e) {
            err.println("raftkv restore: failed: " + e.getMessage());
            return FAILED;
        }
    }

    private static boolean holdsAnything(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return false;
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException(dir + " is not a directory");
        }
        try (Stream<Path> s = Files.list(dir)) {
            // lost+found: what a freshly formatted volume holds (a new PersistentVolume)
            return s.anyMatch(p -> !p.getFileName().toString().equals("lost+found"));
        }
    }

    /** The restore proper, on an empty {@code dir}; returns what was done, for the operator. */
    static String restore(Path file, Path dir, String nodeId, RaftLogStores.Kind kind, String token) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("no snapshot file " + file);
        }
        SnapshotHeader header;
        try {
            header = SnapshotFileReader.verify(file);
        } catch (RuntimeException e) {
            throw new IOException("the snapshot " + file + " is damaged: " + e.getMessage(), e);
        }
        SnapshotMeta meta = header.metaWithConfiguration();
        MapDbFiles.prepareDataDir(dir);
        // Installed as a snapshot received from a leader is: written as a partial file, checked, synced, renamed.
        SnapshotStore store = SnapshotStore.open(dir);
        long size = Files.size(file);
        SnapshotInfo installed;
        try (SnapshotReceiver r = store.beginReceive(header.meta(), size); InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 20];
            long offset = 0;
            for (int n; (n = in.read(buf)) > 0; offset += n) {
                r.accept(offset, buf, 0, n);
            }
            installed = r.finish();
        }
        RaftLogStore log = RaftLogStores.open(kind, dir, 64L << 20);
        try {
            log.resetTo(header.meta());
            log.save(new HardState(header.meta().term(), null, header.meta().index()), List.of());
            Identity identity = Identity.open(dir, List.of(nodeId), token);
            ForceNewCluster.Outcome o = ForceNewCluster.apply(dir, log, meta, Configuration.ofVoters(List.of(nodeId)),
                    nodeId, identity);
            return "restored snapshot " + installed.meta() + " (" + header.keyCount() + " keys, " + size + " bytes) into "
                    + dir + " as a new cluster whose only member is " + nodeId + " (configuration at index " + o.index()
                    + ", was " + o.before() + "); start " + nodeId + " on it, then add the other members with empty"
                    + " data directories";
        } finally {
            log.close();
        }
    }
}
