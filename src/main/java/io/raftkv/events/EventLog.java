package io.raftkv.events;

import org.jboss.logging.Logger;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Objects;

/**
 * The node's human-readable event log, {@code <dataDir>/events.log}: one line per event (elections, leader changes,
 * restarts...), appended across restarts:
 * <pre>
 * 2026-11-26T08:30:01.123Z node1 leader is now: node2 (http://127.0.0.1:8002), term 3
 * </pre>
 * Each line is written and flushed to the operating system at once (no fsync: the log is for people, not recovery).
 * Line breaks inside a message are escaped so that an event is always one line. Thread-safe. A failing write is
 * reported once in the application log and does not stop the node.
 * <p>
 * The newest {@value #RECENT_LINES} lines are also kept in memory ({@link #recent(int)}, for {@code GET /v1/events}
 * and the cluster view), seeded at open from the tail of the file, so a restarted node still shows what came before.
 */
public final class EventLog implements AutoCloseable {

    public static final String FILE_NAME = "events.log";

    private static final Logger LOG = Logger.getLogger(EventLog.class);
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** Lines kept in memory for {@link #recent(int)}. */
    public static final int RECENT_LINES = 200;
    /** How much of the file's tail is read at open to seed the recent lines. */
    private static final int SEED_BYTES = 32 * 1024;

    private final java.util.ArrayDeque<String> recent = new java.util.ArrayDeque<>();
    private final Path file;
    private final String nodeId;
    private final Clock clock;
    private Writer out;
    private boolean warned;

    private EventLog(Path file, String nodeId, Clock clock, Writer out) {
        this.file = file;
        this.nodeId = nodeId;
        this.clock = clock;
        this.out = out;
    }

    /** Opens {@code dataDir/events.log} for appending, creating the directory and file if needed. */
    public static EventLog open(Path dataDir, String nodeId) {
        return open(dataDir, nodeId, Clock.systemUTC());
    }

    /** As {@link #open(Path, String)}, with the clock that stamps the lines. */
    public static EventLog open(Path dataDir, String nodeId, Clock clock) {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(nodeId, "nodeId");
        Objects.requireNonNull(clock, "clock");
        Path file = dataDir.resolve(FILE_NAME).toAbsolutePath();
        try {
            Files.createDirectories(dataDir);
            java.util.List<String> tail = tail(file);
            Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            EventLog log = new EventLog(file, nodeId, clock, w);
            tail.forEach(log::remember);
            return log;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open event log " + file + ": " + e.getMessage(), e);
        }
    }

    /** Appends one event line, stamped now. Ignored after {@link #close()}. */
    public synchronized void log(String message) {
        if (out == null) {
            return;
        }
        String line = line(clock.instant(), nodeId, message);
        remember(line);
        try {
            out.write(line);
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            if (!warned) {
                warned = true;
                LOG.warnf("cannot write event log %s: %s (further failures are not reported)", file, e);
            }
        }
    }

    /** The newest {@code max} lines (at most {@value #RECENT_LINES}), oldest first. */
    public synchronized java.util.List<String> recent(int max) {
        int skip = Math.max(0, recent.size() - Math.max(0, max));
        return recent.stream().skip(skip).toList();
    }

    private void remember(String line) {
        if (recent.size() == RECENT_LINES) {
            recent.removeFirst();
        }
        recent.addLast(line);
    }

    /** The complete lines in the last {@value #SEED_BYTES} bytes of {@code file} (none if it does not exist). */
    private static java.util.List<String> tail(Path file) {
        if (!Files.isRegularFile(file)) {
            return java.util.List.of();
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            long from = Math.max(0, size - SEED_BYTES);
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (size - from));
            while (buf.hasRemaining() && ch.read(buf, from + buf.position()) > 0) {
                // read on
            }
            String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
            java.util.List<String> lines = new java.util.ArrayList<>(text.lines().toList());
            if (from > 0 && !lines.isEmpty()) {
                lines.remove(0); // cut in the middle
            }
            if (!text.endsWith("\n") && !lines.isEmpty()) {
                lines.remove(lines.size() - 1); // a line whose write did not complete
            }
            lines.removeIf(String::isBlank);
            return lines.size() <= RECENT_LINES ? lines : lines.subList(lines.size() - RECENT_LINES, lines.size());
        } catch (IOException e) {
            LOG.warnf("cannot read the tail of event log %s: %s", file, e);
            return java.util.List.of();
        }
    }

    /** The line {@link #log} writes for {@code message} at {@code at}, without the line break. */
    public static String line(Instant at, String nodeId, String message) {
        return TIMESTAMP.format(at) + " " + nodeId + " " + oneLine(message);
    }

    private static String oneLine(String message) {
        if (message == null) {
            return "null";
        }
        if (message.indexOf('\n') < 0 && message.indexOf('\r') < 0) {
            return message;
        }
        return message.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r");
    }

    public Path file() {
        return file;
    }

    public String nodeId() {
        return nodeId;
    }

    @Override
    public synchronized void close() {
        if (out == null) {
            return;
        }
        try {
            out.close();
        } catch (IOException e) {
            LOG.warnf("cannot close event log %s: %s", file, e);
        } finally {
            out = null;
        }
    }
}
