package io.raftkv.api;

import io.raftkv.cli.SseReader;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A test's SSE connection: its events are read on a thread of their own into a queue the test polls with deadlines. */
final class SseTestClient implements AutoCloseable {

    static final SseReader.Event END = new SseReader.Event("<end of stream>", null, "");

    final HttpResponse<InputStream> response;
    private final BlockingQueue<SseReader.Event> events = new LinkedBlockingQueue<>();
    private final Thread reader;

    private SseTestClient(HttpResponse<InputStream> response, boolean start) {
        this.response = response;
        this.reader = new Thread(this::read, "sse-test-reader");
        this.reader.setDaemon(true);
        if (start) {
            reader.start();
        }
    }

    static SseTestClient open(String url, Map<String, String> headers) throws IOException, InterruptedException {
        return open(url, headers, true);
    }

    /** {@code read} false: nothing is read until {@link #startReading()} (a slow client). */
    static SseTestClient open(String url, Map<String, String> headers, boolean read) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Accept", "text/event-stream");
        headers.forEach(b::header);
        // A client of its own: a stream never rides on a pooled connection that the server may be closing.
        HttpClient own = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpResponse<InputStream> r = own.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        return new SseTestClient(r, read);
    }

    void startReading() {
        reader.start();
    }

    private void read() {
        try (SseReader r = new SseReader(response.body())) {
            SseReader.Event e;
            while ((e = r.next()) != null) {
                events.add(e);
            }
        } catch (IOException e) {
            // closed
        }
        events.add(END);
    }

    /** The next event within {@code timeout}, or fails. */
    SseReader.Event next(Duration timeout) throws InterruptedException {
        SseReader.Event e = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (e == null) {
            throw new AssertionError("no event within " + timeout);
        }
        return e;
    }

    /** The next {@code n} events that match, skipping others (progress events), each within {@code timeout}. */
    List<SseReader.Event> take(int n, Predicate<SseReader.Event> which, Duration timeout) throws InterruptedException {
        List<SseReader.Event> out = new ArrayList<>();
        List<SseReader.Event> skipped = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < n) {
            long left = deadline - System.nanoTime();
            SseReader.Event e = events.poll(Math.max(1, left / 1_000_000), TimeUnit.MILLISECONDS);
            if (e == null) {
                throw new AssertionError("only " + out.size() + " of " + n + " events within " + timeout + ": " + out);
            }
            if (e == END && n > out.size()) {
                throw new AssertionError("the stream ended after " + out + " (" + n + " events expected; other events: "
                        + skipped + ")");
            }
            if (which.test(e)) {
                out.add(e);
            } else {
                skipped.add(e);
            }
        }
        return out;
    }

    /** Events already received, without waiting. */
    List<SseReader.Event> drain() {
        List<SseReader.Event> out = new ArrayList<>();
        events.drainTo(out);
        return out;
    }

    static boolean change(SseReader.Event e) {
        return e.name().equals("put") || e.name().equals("delete");
    }

    @Override
    public void close() throws IOException {
        response.body().close();
    }
}
