package io.raftkv.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** Reads a Server-Sent Events stream event by event (the fields raftkv sends: event, id, data; comments skipped). */
public final class SseReader implements AutoCloseable {

    /** One event: its name ("message" when none was given), id (null if none) and data (lines joined by \n). */
    public record Event(String name, String id, String data) {
    }

    private final BufferedReader in;

    public SseReader(InputStream in) {
        this.in = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }

    /** The next event, or null at the end of the stream. */
    public Event next() throws IOException {
        String name = null;
        String id = null;
        StringBuilder data = null;
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) {
                if (data != null || name != null) {
                    return new Event(name == null ? "message" : name, id, data == null ? "" : data.toString());
                }
                continue;
            }
            if (line.startsWith(":")) {
                continue;
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(colon + 1);
            if (value.startsWith(" ")) {
                value = value.substring(1);
            }
            switch (field) {
                case "event" -> name = value;
                case "id" -> id = value;
                case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                default -> {
                    // retry and unknown fields: ignored
                }
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
