package io.raftkv.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import io.raftkv.statemachine.KvStateMachine;
import io.raftkv.storage.wal.WalScan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.raftkv.inspect.DumpFixture.dump;
import static io.raftkv.inspect.DumpFixture.hashes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The offline dump of a directory made by a scripted history; torn and damaged copies; bad directories. */
class DataDirDumpTest {

    @TempDir
    Path tmp;

    private Path history() {
        Path dir = tmp.resolve("node1");
        DumpFixture.writeHistory(dir);
        return dir;
    }

    @Test
    void theDumpShowsWhatTheScriptDidAndChangesNoFile() throws Exception {
        Path dir = history();
        Map<String, String> before = hashes(dir);
        DumpFixture.Run run = dump("--format", "json", dir.toString());
        assertEquals(DumpCommand.OK, run.status(), run.err());
        assertEquals("", run.err());
        assertEquals(before, hashes(dir), "the dump changed a file");
        JsonNode j = run.json();
        assertTrue(j.get("ok").asBoolean());

        JsonNode st = j.get("storage");
        assertEquals("segmented", st.get("logStore").asText());
        assertEquals(2, st.get("term").asLong());
        assertEquals("node2", st.get("votedFor").asText());
        assertEquals(14, st.get("commit").asLong());
        assertEquals(8, st.get("firstIndex").asLong());
        assertEquals(2, st.get("firstIndexPrevTerm").asLong());
        assertEquals(14, st.get("lastIndex").asLong());
        assertTrue(st.get("segments").size() >= 1);

        List<String> lines = new ArrayList<>();
        for (JsonNode e : j.get("log").get("entries")) {
            lines.add(e.get("index").asLong() + "@" + e.get("term").asLong() + " " + e.get("type").asText() + " "
                    + e.get("text").asText());
        }
        assertEquals(List.of(
                "8@2 COMMAND DELETE c",
                "9@2 COMMAND PUT d (3 bytes: \"new\") if absent",
                "10@2 COMMAND PUT a (1 byte: \"3\") if value = (1 byte: \"2\") [client cli #1]",
                "11@2 CONFIG CONFIG (7 bytes: 0x07060504030201)",
                "12@2 COMMAND DELETE d if version = 9",
                "13@2 COMMAND PUT e/1 (2 bytes: \"é\")",
                "14@2 COMMAND PUT e/2 (300 bytes: \"" + "x".repeat(32) + "\"…)"), lines);
        JsonNode e10 = j.get("log").get("entries").get(2);
        assertEquals("PUT", e10.get("op").asText());
        assertEquals("a", e10.get("key").asText());
        assertEquals("3", e10.get("value").asText());
        assertEquals("2", e10.get("ifValue").asText());
        assertEquals("cli", e10.get("clientId").asText());
        assertEquals(1, e10.get("sequence").asLong());

        JsonNode snaps = j.get("snapshots").get("snapshots");
        assertEquals(1, snaps.size());
        assertEquals(10, snaps.get(0).get("index").asLong());
        assertEquals(2, snaps.get(0).get("term").asLong());
        assertEquals(3, snaps.get(0).get("keys").asLong()); // a, b, d at index 10
        assertEquals("verified", snaps.get(0).get("status").asText());

        JsonNode sm = j.get("stateMachine");
        assertEquals(14, sm.get("lastApplied").asLong());
        assertEquals(4, sm.get("keys").asLong());
        List<String> keys = new ArrayList<>();
        for (JsonNode k : sm.get("entries")) {
            keys.add(k.get("key").asText() + " v" + k.get("version").asLong() + " c" + k.get("createIndex").asLong()
                    + " " + k.get("value").asText());
        }
        assertEquals(List.of("a v10 c2 3", "b v3 c3 hello", "e/1 v13 c13 é", "e/2 v14 c14 " + DumpFixture.LONG_VALUE), keys);
    }

    @Test
    void aMapDbLogIsDumpedFromACopyAndTheSameHistoryReadsTheSame() throws Exception {
        Path dir = tmp.resolve("mapdb");
        DumpFixture.writeHistory(dir, true);
        Map<String, String> before = hashes(dir);
        DumpFixture.Run run = dump("--format", "json", dir.toString());
        assertEquals(DumpCommand.OK, run.status(), run.err());
        assertEquals(before, hashes(dir), "the dump changed a file");
        JsonNode j = run.json();
        assertEquals("mapdb", j.get("storage").get("logStore").asText());
        assertEquals("raft-log.db", j.get("storage").get("logFile").asText());

        JsonNode seg = dump("--format", "json", history().toString()).json();
        for (String f : new String[] {"term", "votedFor", "commit", "firstIndex", "firstIndexPrevTerm", "lastIndex"}) {
            assertEquals(seg.get("storage").get(f), j.get("storage").get(f), f);
        }
        assertEquals(seg.get("log").get("entries"), j.get("log").get("entries"));
        assertEquals(seg.get("stateMachine").get("entries"), j.get("stateMachine").get("entries"));
    }

    @Test
    void textShowsTheSameForPeopleAndOptionsSelect() throws Exception {
        Path dir = history();
        DumpFixture.Run run = dump(dir.toString());
        assertEquals(DumpCommand.OK, run.status(), run.err());
        String t = run.out();
        assertTrue(t.contains("current term:  2"), t);
        assertTrue(t.contains("voted for:     node2"), t);
        assertTrue(t.contains("commit index:  14"), t);
        assertTrue(t.contains("      12  term 2    DELETE d if version = 9"), t);
        assertTrue(t.contains("entries up to 7 (term 2) were compacted into a snapshot"), t);
        assertTrue(t.contains("snapshots/snap-00000000000000000010-2.snap: index 10, term 2, 3 keys"), t);
        assertTrue(t.contains("  b  version 3 (created 3)  5 bytes: \"hello\""), t);
        assertTrue(t.contains("every file read completely"), t);

        JsonNode j = dump("--format", "json", "--only", "state-machine", "--prefix", "e/", "--limit", "1",
                dir.toString()).json();
        assertFalse(j.has("log"));
        assertFalse(j.has("storage"));
        JsonNode sm = j.get("stateMachine");
        assertEquals(1, sm.get("entries").size());
        assertEquals("e/1", sm.get("entries").get(0).get("key").asText());
        assertTrue(sm.get("more").asBoolean());

        JsonNode log = dump("--format", "json", "--only", "log", "--from", "13", dir.toString()).json().get("log");
        assertEquals(2, log.get("entries").size());
        assertEquals(13, log.get("entries").get(0).get("index").asLong());
    }

    @Test
    void aTornTailIsReportedWithItsFileAndOffsetAndEverythingBeforeItIsShown() throws Exception {
        Path dir = history();
        WalScan.SegmentInfo newest;
        try (WalScan scan = WalScan.open(dir)) {
            List<WalScan.SegmentInfo> segs = scan.segments();
            newest = segs.get(segs.size() - 1);
        }
        long end = newest.usedBytes();
        Path name = dir.relativize(newest.file());
        List<Long> reported = new ArrayList<>();
        // cuts inside the last save (entry 14 with its 300-byte value, plus the hard state record)
        for (long cut : new long[] {end - 1, end - 7, end - 16, end - 17, end - 100, end - 250, end - 300}) {
            Path copy = tmp.resolve("torn-" + cut);
            DumpFixture.copyTree(dir, copy);
            try (FileChannel ch = FileChannel.open(copy.resolve(name), StandardOpenOption.WRITE)) {
                ch.truncate(cut);
            }
            Map<String, String> before = hashes(copy);
            DumpFixture.Run run = dump("--format", "json", copy.toString());
            assertEquals(before, hashes(copy), "the dump changed a file of the torn copy");
            assertEquals(DumpCommand.DAMAGED, run.status(), "cut at " + cut + ": " + run.out());
            JsonNode p = run.json().get("problems").get(0);
            assertEquals(copy.resolve(name).toAbsolutePath().toString(), p.get("file").asText());
            assertTrue(p.get("message").asText().contains("torn save"), p.toString());
            assertTrue(p.get("offset").asLong() < cut, p.toString());
            reported.add(p.get("offset").asLong());
            assertTrue(run.err().contains(name.getFileName().toString()) && run.err().contains("byte offset "),
                    run.err());
            JsonNode entries = run.json().get("log").get("entries");
            assertEquals(13, entries.get(entries.size() - 1).get("index").asLong(), "entries before the torn save");
            assertEquals(8, entries.get(0).get("index").asLong());
            assertEquals(4, run.json().get("stateMachine").get("keys").asLong());
        }
        assertEquals(1, reported.stream().distinct().count(), "every cut names where the torn save starts: " + reported);
        // in text, the log section itself says so, before the entries it can show
        DumpFixture.Run text = dump("--only", "log", tmp.resolve("torn-" + (end - 1)).toString());
        assertEquals(DumpCommand.DAMAGED, text.status());
        String t = text.out();
        int warned = t.indexOf("!! ");
        assertTrue(warned > 0 && warned < t.indexOf("      13  term 2"), t);
        assertTrue(t.contains("at byte offset " + reported.get(0) + ": torn save"), t);
    }

    @Test
    void damageFollowedByMoreDataIsReportedAndTheEntriesBeforeItShown() throws Exception {
        Path dir = history();
        WalScan.SegmentInfo newest;
        try (WalScan scan = WalScan.open(dir)) {
            newest = scan.segments().get(scan.segments().size() - 1);
        }
        Path copy = tmp.resolve("damaged");
        DumpFixture.copyTree(dir, copy);
        Path seg = copy.resolve(dir.relativize(newest.file()));
        byte[] bytes = Files.readAllBytes(seg);
        // a bit flipped in entry 14's 300-byte value: its record is followed by the hard state record, so this is
        // damage, not a torn save
        long at = newest.usedBytes() - 200;
        bytes[(int) at] ^= 0x40;
        Files.write(seg, bytes);
        Map<String, String> before = hashes(copy);
        DumpFixture.Run run = dump(copy.toString());
        assertEquals(before, hashes(copy));
        assertEquals(DumpCommand.DAMAGED, run.status(), run.out());
        assertTrue(run.err().contains(seg.toAbsolutePath().toString()), run.err());
        assertTrue(run.err().contains("at byte offset") && run.err().contains("checksum"), run.err());
        assertFalse(run.err().contains("torn"), run.err());
        assertTrue(run.out().contains("!! "), run.out());
        assertTrue(run.out().contains("      13  term 2    PUT e/1"), "entries before the damage are shown");
        assertFalse(run.out().contains("      14  term 2"), run.out());
        assertTrue(run.out().contains("== state machine"), "the other files are still dumped");
    }

    @Test
    void damagedSnapshotAndStateMachineFilesAreNamed() throws Exception {
        Path dir = history();
        Path copy = tmp.resolve("copy");
        DumpFixture.copyTree(dir, copy);
        Path snap;
        try (var s = Files.list(copy.resolve("snapshots"))) {
            snap = s.filter(p -> p.toString().endsWith(".snap")).findFirst().orElseThrow();
        }
        try (FileChannel ch = FileChannel.open(snap, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 5);
        }
        Files.write(copy.resolve(KvStateMachine.FILE_NAME), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Map<String, String> before = hashes(copy);
        DumpFixture.Run run = dump("--format", "json", copy.toString());
        assertEquals(before, hashes(copy));
        assertEquals(DumpCommand.DAMAGED, run.status());
        JsonNode problems = run.json().get("problems");
        assertEquals(2, problems.size(), problems.toString());
        assertEquals(snap.toAbsolutePath().toString(), problems.get(0).get("file").asText());
        assertTrue(problems.get(0).get("offset").asLong() > 0);
        assertEquals(copy.resolve("kv.db").toAbsolutePath().toString(), problems.get(1).get("file").asText());
        assertFalse(problems.get(1).get("message").asText().contains("raftkv-dump-"), "names the original, not the copy");
        assertEquals(14, run.json().get("log").get("lastIndex").asLong(), "the log is still shown");
    }

    @Test
    void badDirectoriesAndArgumentsGiveClearErrors() throws Exception {
        DumpFixture.Run missing = dump(tmp.resolve("nope").toString());
        assertEquals(DumpCommand.NO_DATA_DIR, missing.status());
        assertTrue(missing.err().contains("does not exist"), missing.err());
        assertEquals("", missing.out());

        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        DumpFixture.Run notDir = dump(file.toString());
        assertEquals(DumpCommand.NO_DATA_DIR, notDir.status());
        assertTrue(notDir.err().contains("is not a directory"), notDir.err());

        Path empty = Files.createDirectories(tmp.resolve("empty"));
        DumpFixture.Run notData = dump(empty.toString());
        assertEquals(DumpCommand.NO_DATA_DIR, notData.status());
        assertTrue(notData.err().contains("not a raftkv data directory"), notData.err());
        assertEquals(0, Files.list(empty).count(), "nothing created in it");

        Path dir = history();
        for (String[] args : new String[][] {{}, {"--format", "xml", dir.toString()}, {"--only", "logs", dir.toString()},
                {"--limit", "0", dir.toString()}, {"--from", "abc", dir.toString()}, {"--bogus", dir.toString()},
                {dir.toString(), dir.toString()}, {"--prefix"}}) {
            DumpFixture.Run r = dump(args);
            assertEquals(DumpCommand.USAGE, r.status(), String.join(" ", args));
            assertTrue(r.err().startsWith("raftkv dump: ") && r.err().contains("usage: raftkv dump"), r.err());
        }
        assertEquals(DumpCommand.OK, dump("--help").status());
    }
}
