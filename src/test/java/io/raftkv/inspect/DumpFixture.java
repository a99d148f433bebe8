package io.raftkv.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.snapshot.KvSnapshotter;
import io.raftkv.snapshot.SnapshotStore;
import io.raftkv.statemachine.KvCommand;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.storage.MapDbLogStorage;
import io.raftkv.storage.RaftLogStore;
import io.raftkv.storage.wal.SegmentedLogStorage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** A data directory made by a scripted history, and running the dump command on it, for the dump tests. */
final class DumpFixture {

    static final byte[] BINARY = {0, 1, 2, (byte) 0xff, (byte) 0xfe, 10};
    static final byte[] CONFIG = {7, 6, 5, 4, 3, 2, 1};
    static final String LONG_VALUE = "x".repeat(300);

    private DumpFixture() {
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static Entry cmd(long term, long index, KvCommand c) {
        return new Entry(term, index, EntryType.COMMAND, c.encode());
    }

    /**
     * The history, on small segments so it spans several files: node1 leads term 1 and commits 1..4; its entry 5 is
     * not committed; node2 wins term 2, and its no-op replaces entry 5; conditional writes (one that fails), a delete, a
     * client-tagged write, a configuration entry; a snapshot at 10, the log compacted through 7; then 11..14, the last
     * a save of its own with a 300-byte value.
     */
    static void writeHistory(Path dir) {
        writeHistory(dir, false);
    }

    /** The same history with the MapDB log store ({@code raftkv.log-store=mapdb}) if {@code mapDbLog}. */
    static void writeHistory(Path dir, boolean mapDbLog) {
        try (RaftLogStore log = mapDbLog ? MapDbLogStorage.open(dir) : SegmentedLogStorage.open(dir, 1024);
             KvStateMachine sm = KvStateMachine.open(dir)) {
            SnapshotStore snaps = SnapshotStore.open(dir);
            log.save(new HardState(1, "node1", 0), List.of(Entry.noop(1, 1),
                    cmd(1, 2, KvCommand.put("a", b("1"))),
                    cmd(1, 3, KvCommand.put("b", b("hello"))),
                    cmd(1, 4, KvCommand.put("c", BINARY))));
            log.save(new HardState(1, "node1", 4), List.of(cmd(1, 5, KvCommand.put("lost", b("never committed")))));
            sm.apply(log.entries(1, 5, Long.MAX_VALUE));
            // the leader change: node2's no-op at 5 replaces node1's uncommitted entry
            log.save(new HardState(2, "node2", 4), List.of(Entry.noop(2, 5)));
            log.save(new HardState(2, "node2", 10), List.of(
                    cmd(2, 6, KvCommand.put("a", b("2"), KvCommand.Condition.version(2))),
                    cmd(2, 7, KvCommand.put("b", b("nope"), KvCommand.Condition.version(99))),
                    cmd(2, 8, KvCommand.delete("c")),
                    cmd(2, 9, KvCommand.put("d", b("new"), KvCommand.Condition.absent())),
                    cmd(2, 10, KvCommand.put("a", b("3"), KvCommand.Condition.value(b("2"))).withClient("cli", 1))));
            sm.apply(log.entries(5, 11, Long.MAX_VALUE));
            KvSnapshotter.start(sm, snaps, new SnapshotMeta(10, 2), new byte[0]).result().join();
            sm.flush();
            log.compact(7);
            log.save(new HardState(2, "node2", 13), List.of(
                    new Entry(2, 11, EntryType.CONFIG, CONFIG),
                    cmd(2, 12, KvCommand.delete("d", KvCommand.Condition.version(9))),
                    cmd(2, 13, KvCommand.put("e/1", b("é")))));
            log.save(new HardState(2, "node2", 14), List.of(cmd(2, 14, KvCommand.put("e/2", b(LONG_VALUE)))));
            sm.apply(log.entries(11, 15, Long.MAX_VALUE));
            sm.flush();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** What running the command printed and returned. */
    record Run(int status, String out, String err) {
        JsonNode json() {
            try {
                return new ObjectMapper().readTree(out);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + out, e);
            }
        }
    }

    static Run dump(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = DumpCommand.run(args, out, new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** SHA-256 of every file under {@code dir}, by relative path. */
    static Map<String, String> hashes(Path dir) throws Exception {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String rel = dir.relativize(p).toString();
                if (Files.isDirectory(p)) {
                    out.put(rel + "/", "dir");
                } else {
                    out.put(rel, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)))
                            + " " + Files.getLastModifiedTime(p).toMillis());
                }
            }
        }
        return out;
    }

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
}
