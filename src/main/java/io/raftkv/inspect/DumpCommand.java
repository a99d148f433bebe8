package io.raftkv.inspect;

import io.raftkv.cli.OfflineArgs;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@code raftkv dump [options] DATA_DIR}: the command line of {@link DataDirDump}. Exit status: {@value #OK} every
 * file read completely; {@value #DAMAGED} a file is torn or damaged (named with the byte offset on standard error and
 * in the dump, everything readable before it shown); {@value #USAGE} bad arguments; {@value #NO_DATA_DIR} the
 * directory is missing, not a directory, unreadable, or holds no raftkv files.
 */
public final class DumpCommand {

    public static final int OK = 0;
    public static final int DAMAGED = 1;
    public static final int USAGE = 2;
    public static final int NO_DATA_DIR = 3;

    static final String USAGE_TEXT = """
            usage: raftkv dump [--format text|json] [--only SECTIONS] [--from INDEX] [--prefix P] [--limit N] DATA_DIR

            Shows what a node's data directory holds, read-only (no file in it is changed; safe on a copy of a killed
            node's directory): the hard state (term, votedFor, commit) and log store, the snapshots, every log entry
            decoded, and the state machine's keys, versions and values.

              --format text|json   text for people (default) or one JSON document
              --only SECTIONS      comma-separated: storage, snapshots, log, state-machine (default: all)
              --from INDEX         the first log entry to show (default: the log's first)
              --prefix P           only the state machine's keys starting with P
              --limit N            at most N keys of the state machine (default: all)

            exit status: 0 all read, 1 a torn or damaged file (named, with its byte offset), 2 bad arguments,
                         3 not a readable raftkv data directory
            """;

    private DumpCommand() {
    }

    /** Runs the command with {@code args} (after the word {@code dump}); returns the exit status. */
    public static int run(String[] args, OutputStream stdout, PrintStream stderr) {
        String format = "text";
        Set<DataDirDump.Section> sections = EnumSet.allOf(DataDirDump.Section.class);
        long from = 1;
        String prefix = "";
        long limit = Long.MAX_VALUE;
        Path dir = null;
        try {
            OfflineArgs line = new OfflineArgs(args);
            while (line.more()) {
                String a = line.next();
                switch (a) {
                    case "-h", "--help" -> {
                        PrintStream p = new PrintStream(stdout, true, java.nio.charset.StandardCharsets.UTF_8);
                        p.print(USAGE_TEXT);
                        p.flush();
                        return OK;
                    }
                    case "--format" -> {
                        format = line.value();
                        if (!format.equals("text") && !format.equals("json")) {
                            throw new IllegalArgumentException("--format must be text or json, not '" + format + "'");
                        }
                    }
                    case "--only" -> {
                        sections = EnumSet.noneOf(DataDirDump.Section.class);
                        for (String s : line.value().split(",")) {
                            sections.add(DataDirDump.Section.parse(s.trim()));
                        }
                    }
                    case "--from" -> from = number(line.value(), a, 1);
                    case "--prefix" -> prefix = line.value();
                    case "--limit" -> limit = number(line.value(), a, 1);
                    default -> {
                        if (a.startsWith("-") && a.length() > 1) {
                            throw new IllegalArgumentException("unknown option " + a);
                        }
                        if (dir != null) {
                            throw new IllegalArgumentException("one data directory only (got " + dir + " and " + a + ")");
                        }
                        dir = Path.of(a);
                    }
                }
            }
            if (dir == null) {
                throw new IllegalArgumentException("no data directory given");
            }
        } catch (IllegalArgumentException e) {
            stderr.println("raftkv dump: " + e.getMessage());
            stderr.print(USAGE_TEXT);
            return USAGE;
        }
        DataDirDump.Options options = new DataDirDump.Options(sections, from, prefix, limit);
        try {
            DataDirDump.check(dir.toAbsolutePath().normalize());
        } catch (DataDirDump.NotADataDirectory e) {
            stderr.println("raftkv dump: " + e.getMessage());
            return NO_DATA_DIR;
        }
        List<DataDirDump.Problem> problems;
        DumpSink sink = format.equals("json") ? DumpSink.json(stdout) : DumpSink.text(stdout);
        try {
            problems = DataDirDump.run(dir, options, sink);
            sink.close();
        } catch (DataDirDump.NotADataDirectory e) {
            stderr.println("raftkv dump: " + e.getMessage());
            return NO_DATA_DIR;
        } catch (RuntimeException | AssertionError e) {
            stderr.println("raftkv dump: the dump of " + dir + " stopped: " + e);
            return DAMAGED;
        }
        for (DataDirDump.Problem p : problems) {
            stderr.println("raftkv dump: " + p);
        }
        return problems.isEmpty() ? OK : DAMAGED;
    }

    private static long number(String s, String option, long min) {
        try {
            long v = Long.parseLong(s);
            if (v < min) {
                throw new IllegalArgumentException(option + " must be at least " + min + ", not " + v);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " needs a number, not '" + s + "'");
        }
    }
}
