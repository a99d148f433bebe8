package io.raftkv.inspect;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.snapshot.SnapshotCorruptException;
import io.raftkv.snapshot.SnapshotFileReader;
import io.raftkv.snapshot.SnapshotFormat;
import io.raftkv.snapshot.SnapshotHeader;
import io.raftkv.snapshot.SnapshotStore;
import io.raftkv.statemachine.KvEntry;
import io.raftkv.statemachine.KvListing;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.storage.MapDbLogStorage;
import io.raftkv.storage.StorageException;
import io.raftkv.storage.wal.WalScan;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The offline dump of a node's data directory, read-only: no file in it is created, changed, locked or deleted. The
 * segmented log is read by {@link WalScan}; the MapDB files ({@code raft-log.db}, {@code kv.db}, which MapDB writes
 * to when it opens them) are copied with their write-ahead logs to a temporary directory and the copies are opened;
 * snapshot files are read and verified in place. A torn or damaged file is reported ({@link Problem}: the file, the
 * byte offset when known, what is wrong) and the dump goes on with what it can still read.
 */
public final class DataDirDump {

    /** What can be dumped; {@code --only} names them. */
    public enum Section {
        STORAGE("storage"), SNAPSHOTS("snapshots"), LOG("log"), STATE_MACHINE("state-machine");

        public final String id;

        Section(String id) {
            this.id = id;
        }

        public static Section parse(String s) {
            for (Section x : values()) {
                if (x.id.equals(s)) {
                    return x;
                }
            }
            throw new IllegalArgumentException("unknown section '" + s + "' (storage, snapshots, log, state-machine)");
        }
    }

    /**
     * @param sections what to dump
     * @param from     the first log index to show (earlier entries are skipped; 0 or 1 for all)
     * @param prefix   only the state machine's keys with this prefix
     * @param limit    at most this many keys
     */
    public record Options(Set<Section> sections, long from, String prefix, long limit) {
        public static Options all() {
            return new Options(EnumSet.allOf(Section.class), 1, "", Long.MAX_VALUE);
        }
    }

    /** A torn or damaged file: its path, the byte offset (-1 if the format gives none) and what is wrong. */
    public record Problem(Path file, long offset, String message) {
        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file.toString());
            m.put("offset", offset < 0 ? null : offset);
            m.put("message", message);
            return m;
        }

        @Override
        public String toString() {
            return file + (offset < 0 ? "" : " at byte offset " + offset) + ": " + message;
        }
    }

    /** The data directory cannot be dumped at all (missing, not a directory, no raftkv files). */
    public static final class NotADataDirectory extends Exception {
        NotADataDirectory(String message) {
            super(message);
        }
    }

    private static final int LOG_BATCH = 256;
    private static final int KEY_BATCH = 1000;
    private static final int SM_VALUE_HEAD = 200;

    private final Path dir;
    private final Options options;
    private final DumpSink out;
    private final List<Problem> problems = new ArrayList<>();
    private final List<Path> temps = new ArrayList<>();
    private LogSource log;
    private boolean logProblemsShown;

    private DataDirDump(Path dir, Options options, DumpSink out) {
        this.dir = dir;
        this.options = options;
        this.out = out;
    }

    /** Checks that {@code dir} is a readable directory holding raftkv files; the reason if it is not. */
    public static void check(Path dir) throws NotADataDirectory {
        if (!Files.exists(dir)) {
            throw new NotADataDirectory("data directory " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new NotADataDirectory(dir + " is not a directory (give a node's data directory, e.g. data/node1)");
        }
        if (!Files.isReadable(dir) || !Files.isExecutable(dir)) {
            throw new NotADataDirectory("data directory " + dir + " is not readable by this user");
        }
        if (!WalScan.present(dir) && !Files.exists(dir.resolve(MapDbLogStorage.FILE_NAME))
                && !Files.exists(dir.resolve(KvStateMachine.FILE_NAME)) && !Files.isDirectory(dir.resolve(SnapshotStore.DIR))) {
            throw new NotADataDirectory(dir + " is not a raftkv data directory: it holds none of "
                    + "wal/, raft-log.db, kv.db, snapshots/");
        }
    }

    /** Dumps {@code dir} to {@code out}; returns the problems found (empty: every file read completely). */
    static List<Problem> run(Path dir, Options options, DumpSink out) throws NotADataDirectory {
        Path abs = dir.toAbsolutePath().normalize();
        check(abs);
        DataDirDump d = new DataDirDump(abs, options, out);
        try {
            d.dump();
        } finally {
            d.cleanUp();
        }
        return d.problems;
    }

    private void dump() {
        out.field("dataDir", "data directory", dir.toString());
        out.field("readOnly", "read-only", "yes (MapDB files are read from temporary copies)");
        if (options.sections().contains(Section.STORAGE) || options.sections().contains(Section.LOG)) {
            log = openLog();
        }
        if (options.sections().contains(Section.STORAGE)) {
            storage();
        }
        if (options.sections().contains(Section.SNAPSHOTS)) {
            snapshots();
        }
        if (options.sections().contains(Section.LOG)) {
            log();
        }
        if (options.sections().contains(Section.STATE_MACHINE)) {
            stateMachine();
        }
        out.finish(problems);
    }

    /** Shows the problems found opening the log, in the first section that shows the log. */
    private void showLogProblems() {
        if (!logProblemsShown) {
            logProblemsShown = true;
            problems.forEach(out::problem);
        }
    }

    private void problem(Problem p) {
        problems.add(p);
        out.problem(p);
    }

    // ------------------------------------------------------------------------------------------------- the log

    /** The log as either store holds it, read-only. */
    private interface LogSource extends AutoCloseable {
        String kind();

        Path file();

        HardState hardState();

        long firstIndex();

        long prevTerm();

        long lastIndex();

        List<Entry> entries(long lo, long hi);

        @Override
        void close();
    }

    private LogSource openLog() {
        Path mapDb = dir.resolve(MapDbLogStorage.FILE_NAME);
        if (WalScan.present(dir)) {
            WalScan scan;
            try {
                scan = WalScan.open(dir);
            } catch (RuntimeException | AssertionError e) {
                problems.add(new Problem(dir.resolve("wal"), -1, original(e)));
                return null;
            }
            if (!scan.empty() || !Files.exists(mapDb)) {
                if (!scan.empty() && Files.exists(mapDb)) {
                    problems.add(new Problem(dir, -1, "holds both a segmented log (wal/) and a MapDB log"
                            + " (raft-log.db): a node refuses to start on it; showing the segmented one"));
                }
                scan.problem().ifPresent(p -> problems.add(new Problem(p.file(), p.offset(), p.message())));
                return new WalSource(scan);
            }
            scan.close(); // an empty wal/ beside a MapDB log: the MapDB log is the node's
        }
        if (Files.exists(mapDb)) {
            try {
                Path copy = copyMapDb(MapDbLogStorage.FILE_NAME);
                return new MapDbSource(MapDbLogStorage.open(copy), mapDb);
            } catch (RuntimeException | AssertionError | IOException e) {
                problems.add(new Problem(mapDb, -1, original(e)));
                return null;
            }
        }
        return null;
    }

    private void storage() {
        out.begin("storage", "storage: hard state and log (" + dir.getFileName() + ")");
        showLogProblems();
        if (log == null) {
            out.field("logStore", "log store", "none readable");
            out.note("no readable raft log (wal/ or raft-log.db)");
            out.end();
            return;
        }
        HardState hs = log.hardState();
        out.field("logStore", "log store", log.kind());
        out.field("logFile", "log file", dir.relativize(log.file()) + (log instanceof WalSource ? "/" : ""));
        out.field("term", "current term", hs.term());
        out.field("votedFor", "voted for", hs.votedFor());
        out.field("commit", "commit index", hs.commit());
        out.field("firstIndex", "first index", log.firstIndex());
        out.field("firstIndexPrevTerm", "term before", log.prevTerm());
        out.field("lastIndex", "last index", log.lastIndex());
        out.field("entries", "entries", log.lastIndex() - log.firstIndex() + 1);
        if (log instanceof WalSource w) {
            out.beginList("segments");
            for (WalScan.SegmentInfo s : w.scan.segments()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file", dir.relativize(s.file()).toString());
                m.put("firstIndex", s.firstIndex());
                m.put("sequence", s.sequence());
                m.put("sizeBytes", s.sizeBytes());
                m.put("usedBytes", s.usedBytes());
                m.put("liveEntries", s.count());
                m.put("liveFirst", s.count() == 0 ? null : s.liveFirst());
                m.put("liveLast", s.count() == 0 ? null : s.liveFirst() + s.count() - 1);
                out.item(m, "segment        " + m.get("file") + ": " + (s.count() == 0 ? "no live entries"
                        : "entries " + s.liveFirst() + ".." + (s.liveFirst() + s.count() - 1)) + ", sequence "
                        + s.sequence() + ", " + s.usedBytes() + " of " + s.sizeBytes() + " bytes used");
            }
            out.endList();
            for (Path p : w.scan.ignoredFiles()) {
                out.note(dir.relativize(p) + " is superseded or incomplete: a node would delete it at start");
            }
        }
        out.end();
    }

    private void log() {
        long first = log == null ? 1 : log.firstIndex();
        long last = log == null ? 0 : log.lastIndex();
        long from = Math.max(first, options.from());
        out.begin("log", "log: " + (last >= first ? "entries " + first + ".." + last : "no entries")
                + (from > first && from <= last ? ", from " + from : "")
                + (log == null ? "" : " (" + dir.relativize(log.file()) + ")"));
        showLogProblems();
        if (log == null) {
            out.note("no readable raft log (wal/ or raft-log.db)");
            out.end();
            return;
        }
        out.field("firstIndex", "first index", first);
        out.field("lastIndex", "last index", last);
        if (first > 1) {
            out.note("entries up to " + (first - 1) + " (term " + log.prevTerm() + ") were compacted into a snapshot");
        }
        out.beginList("entries");
        try {
            for (long lo = from; lo <= last; lo += LOG_BATCH) {
                for (Entry e : log.entries(lo, Math.min(last + 1, lo + LOG_BATCH))) {
                    EntryView v = EntryView.of(e);
                    out.item(v.json(), v.line());
                }
            }
        } catch (RuntimeException | AssertionError e) {
            problem(new Problem(log.file(), -1, original(e)));
        } finally {
            out.endList();
        }
        out.end();
    }

    private static final class WalSource implements LogSource {
        final WalScan scan;

        WalSource(WalScan scan) {
            this.scan = scan;
        }

        public String kind() {
            return "segmented";
        }

        public Path file() {
            return scan.directory();
        }

        public HardState hardState() {
            return scan.hardState();
        }

        public long firstIndex() {
            return scan.firstIndex();
        }

        public long prevTerm() {
            return scan.firstIndexPrevTerm();
        }

        public long lastIndex() {
            return scan.lastIndex();
        }

        public List<Entry> entries(long lo, long hi) {
            return scan.entries(lo, hi);
        }

        public void close() {
            scan.close();
        }
    }

    private record MapDbSource(MapDbLogStorage store, Path file) implements LogSource {
        public String kind() {
            return "mapdb";
        }

        public HardState hardState() {
            return store.hardState();
        }

        public long firstIndex() {
            return store.firstIndex();
        }

        public long prevTerm() {
            return store.term(store.firstIndex() - 1);
        }

        public long lastIndex() {
            return store.lastIndex();
        }

        public List<Entry> entries(long lo, long hi) {
            return store.entries(lo, hi, Long.MAX_VALUE);
        }

        public void close() {
            store.close();
        }
    }

    // ------------------------------------------------------------------------------------------------ snapshots

    private void snapshots() {
        Path sdir = dir.resolve(SnapshotStore.DIR);
        out.begin("snapshots", "snapshots (" + SnapshotStore.DIR + "/)");
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(sdir)) {
            try (Stream<Path> list = Files.list(sdir)) {
                list.sorted().forEach(files::add);
            } catch (IOException e) {
                problem(new Problem(sdir, -1, "cannot list: " + e));
            }
        } else {
            out.note("no snapshots/ directory");
        }
        out.beginList("snapshots");
        int n = 0;
        for (Path p : files) {
            String name = p.getFileName().toString();
            Optional<SnapshotMeta> meta = SnapshotFormat.parseFileName(name);
            if (meta.isEmpty()) {
                if (name.endsWith(".tmp")) {
                    out.note(SnapshotStore.DIR + "/" + name + " is a snapshot being written or received when the node"
                            + " stopped: a node deletes it at start");
                }
                continue;
            }
            n++;
            snapshot(p, meta.get());
        }
        out.endList();
        if (n == 0) {
            out.note("no snapshot: the log has never been compacted");
        }
        out.end();
    }

    private void snapshot(Path p, SnapshotMeta meta) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", dir.relativize(p).toString());
        m.put("index", meta.index());
        m.put("term", meta.term());
        long size = -1;
        try {
            size = Files.size(p);
        } catch (IOException e) {
            // reported by the read below
        }
        m.put("sizeBytes", size);
        String status;
        try (SnapshotFileReader r = SnapshotFileReader.open(p)) {
            SnapshotHeader h = r.header();
            m.put("keys", h.keyCount());
            m.put("configurationBytes", h.configuration().length);
            if (!h.meta().equals(meta)) {
                throw new SnapshotCorruptException(p, 0, "the header says " + h.meta() + ", the name " + meta);
            }
            while (r.next() != null) {
                // reading verifies every record and the checksum of the whole file
            }
            status = "verified";
        } catch (SnapshotCorruptException e) {
            status = "damaged";
            problem(new Problem(p, e.offset(), e.getMessage()));
        } catch (RuntimeException | AssertionError e) {
            status = "unreadable";
            problem(new Problem(p, -1, original(e)));
        }
        m.put("status", status);
        out.item(m, "snapshot       " + m.get("file") + ": index " + meta.index() + ", term " + meta.term() + ", "
                + (m.containsKey("keys") ? m.get("keys") + " keys, " : "") + size + " bytes, " + status);
    }

    // -------------------------------------------------------------------------------------------- state machine

    private void stateMachine() {
        Path kv = dir.resolve(KvStateMachine.FILE_NAME);
        out.begin("stateMachine", "state machine (" + KvStateMachine.FILE_NAME + ")");
        if (!Files.exists(kv)) {
            out.note("no " + KvStateMachine.FILE_NAME + ": a node creates it at start (from its newest snapshot, if any,"
                    + " then replays the log)");
            out.end();
            return;
        }
        KvStateMachine sm;
        try {
            sm = KvStateMachine.open(copyMapDb(KvStateMachine.FILE_NAME));
        } catch (RuntimeException | AssertionError | IOException e) {
            problem(new Problem(kv, -1, original(e)));
            out.end();
            return;
        }
        try {
            out.field("lastApplied", "last applied", sm.lastApplied());
            out.field("keys", "keys", sm.size());
            if (!options.prefix().isEmpty()) {
                out.field("prefix", "prefix", options.prefix());
            }
            out.beginList("entries");
            long shown = 0;
            boolean more = false;
            String after = null;
            try {
                while (shown < options.limit()) {
                    KvListing page = sm.list(options.prefix(), after, (int) Math.min(KEY_BATCH, options.limit() - shown));
                    for (KvEntry e : page.entries()) {
                        out.item(keyJson(e), "  " + EntryView.printableKey(e.key()) + "  version " + e.version()
                                + " (created " + e.createIndex() + ")  " + EntryView.bytesText(e.value(), SM_VALUE_HEAD));
                        shown++;
                    }
                    after = page.lastKey();
                    if (!page.more()) {
                        break;
                    }
                    more = shown >= options.limit();
                }
            } catch (RuntimeException | AssertionError e) {
                problem(new Problem(kv, -1, original(e)));
            } finally {
                out.endList();
            }
            out.field("shown", "shown", shown);
            out.field("more", "more", more);
            if (more) {
                out.note("more keys match: raise --limit to see them");
            }
        } finally {
            sm.close();
        }
        out.end();
    }

    private static Map<String, Object> keyJson(KvEntry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("key", e.key());
        m.put("version", e.version());
        m.put("createIndex", e.createIndex());
        m.put("valueBytes", e.value().length);
        String text = EntryView.printable(e.value(), Integer.MAX_VALUE);
        if (text != null) {
            m.put("value", text);
        } else {
            m.put("valueBase64", Base64.getEncoder().encodeToString(e.value()));
        }
        return m;
    }

    // ------------------------------------------------------------------------------------------- copies of MapDB

    /**
     * Copies {@code name} and its write-ahead log files ({@code name.wal.N}) to a new temporary directory and returns
     * it. A copy whose sources changed while being copied (a running node) is taken again, up to three times.
     */
    private Path copyMapDb(String name) throws IOException {
        Path tmp = newTempDirectory();
        temps.add(tmp);
        for (int attempt = 0; ; attempt++) {
            List<Path> sources = new ArrayList<>();
            try (Stream<Path> list = Files.list(dir)) {
                list.filter(p -> {
                    String n = p.getFileName().toString();
                    return n.equals(name) || n.startsWith(name + ".wal.");
                }).sorted().forEach(sources::add);
            }
            List<String> before = stamps(sources);
            for (Path s : sources) {
                Files.copy(s, tmp.resolve(s.getFileName().toString()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            if (stamps(sources).equals(before)) {
                return tmp;
            }
            if (attempt == 2) {
                out.note(name + " changed while it was being copied (is the node running?): its dump may be inconsistent");
                return tmp;
            }
            try (Stream<Path> old = Files.list(tmp)) {
                for (Path p : (Iterable<Path>) old::iterator) {
                    Files.delete(p);
                }
            }
        }
    }

    /** A new directory under {@code java.io.tmpdir} (named here, without the JDK's SecureRandom-named temp files). */
    private static Path newTempDirectory() throws IOException {
        Path base = Path.of(System.getProperty("java.io.tmpdir", "/tmp"));
        String stem = "raftkv-dump-" + ProcessHandle.current().pid() + "-";
        for (int i = 0; ; i++) {
            try {
                return Files.createDirectory(base.resolve(stem + System.nanoTime() + "-" + i));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (i > 100) {
                    throw e;
                }
            }
        }
    }

    private static List<String> stamps(List<Path> files) throws IOException {
        List<String> out = new ArrayList<>();
        for (Path p : files) {
            out.add(p.getFileName() + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis());
        }
        return out;
    }

    /** A failure's message; one about a temporary copy names the original file instead. */
    private String original(Throwable e) {
        String m = e instanceof StorageException ? e.getMessage() : "unreadable: " + e;
        for (Path t : temps) {
            m = m.replace(t.toAbsolutePath().toString(), dir.toString());
        }
        return m;
    }

    private void cleanUp() {
        if (log != null) {
            try {
                log.close();
            } catch (RuntimeException ignored) {
                // a copy or a read-only scan: nothing to lose
            }
        }
        for (Path t : temps) {
            try (Stream<Path> files = Files.walk(t)) {
                files.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // left in the temporary directory
                    }
                });
            } catch (IOException ignored) {
                // left in the temporary directory
            }
        }
    }
}
