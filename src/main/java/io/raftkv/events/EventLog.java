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
 */
public final class EventLog implements AutoCloseable {

    public static final String FILE_NAME = "events.log";

    private static final Logger LOG = Logger.getLogger(EventLog.class);
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

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
            Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            return new EventLog(file, nodeId, clock, w);
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
