package io.raftkv.inspect;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a dump goes, section by section, as it is read (nothing is held in memory but the current item): plain text
 * for people, or one JSON document. Sections hold fields, then at most one list of items; problems are shown where
 * they are found (text) and listed at the end (both).
 */
abstract class DumpSink implements AutoCloseable {

    /** Opens a section: {@code name} is its JSON field, {@code title} its text heading. */
    abstract void begin(String name, String title);

    /** A field of the current section (or of the document before any section). */
    abstract void field(String name, String label, Object value);

    /** Starts the list of items of the current section. */
    abstract void beginList(String name);

    /** One item: its JSON object and its line of text. */
    abstract void item(Map<String, Object> json, String text);

    abstract void endList();

    /** A remark about the current section (a file recovery would delete, a missing file). */
    abstract void note(String text);

    abstract void end();

    /** A damaged or torn file. */
    abstract void problem(DataDirDump.Problem p);

    /** Ends the document: the problems found, and whether everything was read. */
    abstract void finish(List<DataDirDump.Problem> problems);

    @Override
    public abstract void close();

    static DumpSink text(OutputStream out) {
        return new Text(out);
    }

    static DumpSink json(OutputStream out) {
        return new Json(out);
    }

    private static final class Text extends DumpSink {
        private final PrintStream out;

        Text(OutputStream out) {
            this.out = new PrintStream(out, false, StandardCharsets.UTF_8);
        }

        @Override
        void begin(String name, String title) {
            out.println();
            out.println("== " + title + " ==");
        }

        @Override
        void field(String name, String label, Object value) {
            out.printf("%-14s %s%n", label + ":", value == null ? "-" : value);
        }

        @Override
        void beginList(String name) {
        }

        @Override
        void item(Map<String, Object> json, String text) {
            out.println(text);
        }

        @Override
        void endList() {
        }

        @Override
        void note(String text) {
            out.println("note: " + text);
        }

        @Override
        void end() {
        }

        @Override
        void problem(DataDirDump.Problem p) {
            out.println("!! " + p);
        }

        @Override
        void finish(List<DataDirDump.Problem> problems) {
            out.println();
            if (problems.isEmpty()) {
                out.println("every file read completely: no damage found");
            } else {
                out.println(problems.size() + (problems.size() == 1 ? " problem" : " problems")
                        + " found (everything readable before each is shown above):");
                problems.forEach(p -> out.println("!! " + p));
            }
        }

        @Override
        public void close() {
            out.flush();
        }
    }

    private static final class Json extends DumpSink {
        private final JsonGenerator g;
        private List<String> notes = new ArrayList<>();

        Json(OutputStream out) {
            try {
                g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8);
                g.useDefaultPrettyPrinter();
                g.writeStartObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        void begin(String name, String title) {
            io(() -> {
                g.writeFieldName(name);
                g.writeStartObject();
            });
            notes = new ArrayList<>();
        }

        @Override
        void field(String name, String label, Object value) {
            io(() -> {
                g.writeFieldName(name);
                write(value);
            });
        }

        @Override
        void beginList(String name) {
            io(() -> {
                g.writeFieldName(name);
                g.writeStartArray();
            });
        }

        @Override
        void item(Map<String, Object> json, String text) {
            io(() -> write(json));
        }

        @Override
        void endList() {
            io(g::writeEndArray);
        }

        @Override
        void note(String text) {
            notes.add(text);
        }

        @Override
        void end() {
            io(() -> {
                if (!notes.isEmpty()) {
                    g.writeFieldName("notes");
                    write(notes);
                }
                g.writeEndObject();
            });
            notes = new ArrayList<>();
        }

        @Override
        void problem(DataDirDump.Problem p) {
            // listed at the end
        }

        @Override
        void finish(List<DataDirDump.Problem> problems) {
            io(() -> {
                g.writeFieldName("problems");
                g.writeStartArray();
                for (DataDirDump.Problem p : problems) {
                    write(p.json());
                }
                g.writeEndArray();
                g.writeBooleanField("ok", problems.isEmpty());
            });
        }

        private void write(Object v) throws IOException {
            if (v == null) {
                g.writeNull();
            } else if (v instanceof String s) {
                g.writeString(s);
            } else if (v instanceof Integer i) {
                g.writeNumber(i);
            } else if (v instanceof Long l) {
                g.writeNumber(l);
            } else if (v instanceof Boolean b) {
                g.writeBoolean(b);
            } else if (v instanceof Map<?, ?> m) {
                g.writeStartObject();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    g.writeFieldName(String.valueOf(e.getKey()));
                    write(e.getValue());
                }
                g.writeEndObject();
            } else if (v instanceof List<?> list) {
                g.writeStartArray();
                for (Object o : list) {
                    write(o);
                }
                g.writeEndArray();
            } else {
                g.writeString(v.toString());
            }
        }

        @Override
        public void close() {
            io(() -> {
                g.writeEndObject();
                g.writeRaw('\n');
                g.flush();
            });
        }

        private interface IoAction {
            void run() throws IOException;
        }

        private static void io(IoAction a) {
            try {
                a.run();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
