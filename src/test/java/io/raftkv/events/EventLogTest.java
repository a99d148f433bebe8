package io.raftkv.events;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLogTest {

    @TempDir
    Path dir;

    static final Instant T = Instant.parse("2026-11-26T08:30:01.123Z");

    @Test
    void lineFormat() {
        assertEquals("2026-11-26T08:30:01.123Z node1 leader is now: node2 (http://127.0.0.1:8002), term 3",
                EventLog.line(T, "node1", "leader is now: node2 (http://127.0.0.1:8002), term 3"));
        // millis are always printed, even when zero; the time is UTC
        assertEquals("2026-01-02T03:04:05.000Z n x", EventLog.line(Instant.parse("2026-01-02T03:04:05Z"), "n", "x"));
        assertEquals("2026-01-02T03:04:05.009Z n x",
                EventLog.line(Instant.parse("2026-01-02T03:04:05.009999Z"), "n", "x"));
        // one event, one line
        assertEquals("2026-11-26T08:30:01.123Z n a\\nb\\nc\\rd", EventLog.line(T, "n", "a\nb\r\nc\rd"));
    }

    @Test
    void appendsFlushedLines() throws IOException {
        Clock clock = Clock.fixed(T, ZoneOffset.UTC);
        Path file = dir.resolve(EventLog.FILE_NAME);
        try (EventLog log = EventLog.open(dir, "node1", clock)) {
            assertEquals(file.toAbsolutePath(), log.file());
            log.log("started");
            // flushed at once: readable while the log is open
            assertEquals(List.of("2026-11-26T08:30:01.123Z node1 started"), Files.readAllLines(file));
            log.log("became leader, term 2");
        }
        try (EventLog log = EventLog.open(dir, "node1", clock)) {
            log.log("restarted ü");
        }
        assertEquals(List.of(
                "2026-11-26T08:30:01.123Z node1 started",
                "2026-11-26T08:30:01.123Z node1 became leader, term 2",
                "2026-11-26T08:30:01.123Z node1 restarted ü"), Files.readAllLines(file, StandardCharsets.UTF_8));
    }

    @Test
    void createsTheDirectoryAndIgnoresLogAfterClose() throws IOException {
        Path nested = dir.resolve("x/y");
        EventLog log = EventLog.open(nested, "n1");
        log.log("one");
        log.close();
        log.close();
        log.log("ignored");
        List<String> lines = Files.readAllLines(nested.resolve(EventLog.FILE_NAME));
        assertEquals(1, lines.size());
        assertTrue(Pattern.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z n1 one", lines.get(0)), lines.get(0));
    }

    @Test
    void unusableDirectoryIsReported() throws IOException {
        Path file = dir.resolve("plain");
        Files.writeString(file, "x");
        assertThrows(java.io.UncheckedIOException.class, () -> EventLog.open(file, "n1"));
    }

    @Test
    void recentLinesAreKeptInMemoryBoundedAndSeededFromTheFileAtOpen() throws IOException {
        Clock clock = Clock.fixed(T, ZoneOffset.UTC);
        try (EventLog log = EventLog.open(dir, "node1", clock)) {
            assertEquals(List.of(), log.recent(10));
            for (int i = 0; i < EventLog.RECENT_LINES + 50; i++) {
                log.log("event " + i);
            }
            List<String> last = log.recent(3);
            assertEquals(List.of(EventLog.line(T, "node1", "event " + (EventLog.RECENT_LINES + 47)),
                    EventLog.line(T, "node1", "event " + (EventLog.RECENT_LINES + 48)),
                    EventLog.line(T, "node1", "event " + (EventLog.RECENT_LINES + 49))), last, "the newest, oldest first");
            assertEquals(EventLog.RECENT_LINES, log.recent(10_000).size(), "at most RECENT_LINES kept");
            assertEquals(List.of(), log.recent(0));
        }
        // a restart: the tail of the file comes back (a torn last line, a write cut short, is left out)
        Files.writeString(dir.resolve(EventLog.FILE_NAME), "2026-11-26T08:30:02.000Z node1 half a li",
                StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        try (EventLog log = EventLog.open(dir, "node1", clock)) {
            List<String> seeded = log.recent(2);
            assertEquals(List.of(EventLog.line(T, "node1", "event " + (EventLog.RECENT_LINES + 48)),
                    EventLog.line(T, "node1", "event " + (EventLog.RECENT_LINES + 49))), seeded);
            log.log("started again");
            assertEquals(EventLog.line(T, "node1", "started again"), log.recent(1).get(0));
        }
        // a file longer than what is read back: only whole lines of its tail
        Path big = dir.resolve("big");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            sb.append(EventLog.line(T, "n", "line " + i)).append('\n');
        }
        Files.createDirectories(big);
        Files.writeString(big.resolve(EventLog.FILE_NAME), sb.toString());
        try (EventLog log = EventLog.open(big, "n", clock)) {
            List<String> all = log.recent(EventLog.RECENT_LINES);
            assertEquals(EventLog.RECENT_LINES, all.size());
            assertEquals(EventLog.line(T, "n", "line 1999"), all.get(all.size() - 1));
            assertTrue(all.stream().allMatch(l -> l.startsWith("2026-11-26T08:30:01.123Z n line ")), all.toString());
        }
    }

    @Test
    void concurrentWritersNeverInterleaveLines() throws Exception {
        int threads = 4;
        int perThread = 500;
        try (EventLog log = EventLog.open(dir, "n1", Clock.fixed(T, ZoneOffset.UTC))) {
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread th = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        log.log("thread " + id + " event " + i + " " + "x".repeat(200));
                    }
                });
                workers.add(th);
                th.start();
            }
            for (Thread th : workers) {
                th.join();
            }
        }
        List<String> lines = Files.readAllLines(dir.resolve(EventLog.FILE_NAME));
        assertEquals(threads * perThread, lines.size());
        Set<String> seen = new HashSet<>();
        Pattern p = Pattern.compile("2026-11-26T08:30:01\\.123Z n1 thread \\d event \\d+ x{200}");
        for (String line : lines) {
            assertTrue(p.matcher(line).matches(), line);
            seen.add(line);
        }
        assertEquals(threads * perThread, seen.size());
    }
}
