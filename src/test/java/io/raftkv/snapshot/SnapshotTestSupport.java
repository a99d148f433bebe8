package io.raftkv.snapshot;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.statemachine.KvListing;
import io.raftkv.statemachine.KvStateMachine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

/** A model of the KV state machine and random workloads, shared by the snapshot tests. */
final class SnapshotTestSupport {

    private SnapshotTestSupport() {
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Entry cmd(long index, KvCommand c) {
        return new Entry(1, index, EntryType.COMMAND, c.encode());
    }

    /** What the state machine should hold: key -> entry, replayed from the same commands. */
    static final class Model {
        final TreeMap<String, KvEntry> map = new TreeMap<>();
        long index;

        Model copy() {
            Model m = new Model();
            m.map.putAll(map);
            m.index = index;
            return m;
        }

        List<KvEntry> entries() {
            return new ArrayList<>(map.values());
        }
    }

    /**
     * Random commands over a key space {@code k000..k<keys-1>} plus brand-new keys: puts, deletes (of existing and
     * missing keys), re-creates, failing conditional puts; applied to both the model and the returned entries.
     */
    static List<Entry> randomBatch(Random rnd, Model model, int n, int keys) {
        List<Entry> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long index = ++model.index;
            int r = rnd.nextInt(100);
            String key = r < 5 ? "n" + index : String.format("k%03d", rnd.nextInt(keys));
            KvCommand c;
            if (r >= 5 && r < 35) {
                c = KvCommand.delete(key);
                model.map.remove(key);
            } else if (r >= 35 && r < 40) {
                c = KvCommand.put(key, b("never"), KvCommand.Condition.version(Long.MAX_VALUE)); // conflict
            } else {
                byte[] value = new byte[rnd.nextInt(40)];
                rnd.nextBytes(value);
                c = KvCommand.put(key, value);
                KvEntry cur = model.map.get(key);
                model.map.put(key, new KvEntry(key, value, index, cur == null ? index : cur.createIndex()));
            }
            out.add(cmd(index, c));
        }
        return out;
    }

    /** Every entry of the state machine, in key order. */
    static List<KvEntry> dump(KvStateMachine sm) {
        List<KvEntry> out = new ArrayList<>();
        String after = null;
        while (true) {
            KvListing page = sm.list("", after, 500);
            out.addAll(page.entries());
            if (!page.more()) {
                return out;
            }
            after = page.lastKey();
        }
    }

    /** Every record of a snapshot file, verifying it. */
    static List<KvEntry> read(Path file) {
        List<KvEntry> out = new ArrayList<>();
        try (SnapshotFileReader r = SnapshotFileReader.open(file)) {
            for (KvEntry e = r.next(); e != null; e = r.next()) {
                out.add(e);
            }
        }
        return out;
    }

    /** Copies a directory tree (what a kill -9 would leave on disk, page cache included). */
    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }

    /** The seed base: -Dsnapshot.seed overrides it to replay a failure. */
    static long seedBase() {
        return Long.getLong("snapshot.seed", 1);
    }
}
