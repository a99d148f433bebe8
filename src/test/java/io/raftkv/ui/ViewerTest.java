package io.raftkv.ui;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;

/** A browser that reads slowly or not at all holds at most the view being written and the newest one. */
class ViewerTest {

    /** A connection whose writes complete only when the test says so. */
    static final class SlowConnection implements Viewer.Connection {
        final List<String> sent = new ArrayList<>();
        final List<CompletableFuture<Void>> writes = new ArrayList<>();
        boolean closed;

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public synchronized CompletionStage<?> send(String json, long id) {
            sent.add(id + ":" + json);
            CompletableFuture<Void> f = new CompletableFuture<>();
            writes.add(f);
            return f;
        }

        @Override
        public void close() {
            closed = true;
        }

        void completeLast() {
            writes.get(writes.size() - 1).complete(null);
        }
    }

    @Test
    void aSlowBrowserGetsTheNewestViewAndNothingPilesUp() {
        SlowConnection c = new SlowConnection();
        AtomicInteger closes = new AtomicInteger();
        Viewer v = new Viewer(c, 60_000_000_000L, closes::incrementAndGet);
        v.offer("v1");
        for (int i = 2; i <= 1000; i++) {
            v.offer("v" + i); // the browser takes nothing meanwhile
        }
        assertEquals(List.of("1:v1"), c.sent, "one write in flight, the others replaced one another unsent");
        c.completeLast();
        assertEquals(List.of("1:v1", "2:v1000"), c.sent, "then the newest, and only it");
        c.completeLast();
        assertEquals(2, c.sent.size(), "nothing else was kept");
        v.offer("v1001");
        assertEquals("3:v1001", c.sent.get(2));
        assertFalse(v.closed());
        assertEquals(0, closes.get());
    }

    @Test
    void aBrowserThatStopsReadingIsCutOffAndAClosedOneIsDropped() throws Exception {
        SlowConnection c = new SlowConnection();
        AtomicInteger closes = new AtomicInteger();
        Viewer v = new Viewer(c, 20_000_000L, closes::incrementAndGet); // stuck after 20 ms
        v.offer("v1");
        Thread.sleep(50);
        v.offer("v2");
        assertTrue(v.closed() && c.closed, "a write not taken for longer than allowed ends the connection");
        assertEquals(1, closes.get());
        v.offer("v3");
        v.close("again");
        assertEquals(1, closes.get(), "closed once");
        assertEquals(1, c.sent.size());

        SlowConnection gone = new SlowConnection();
        AtomicInteger goneCloses = new AtomicInteger();
        Viewer g = new Viewer(gone, 60_000_000_000L, goneCloses::incrementAndGet);
        gone.closed = true; // the browser went away
        g.offer("v1");
        assertTrue(g.closed());
        assertEquals(0, gone.sent.size());
        assertEquals(1, goneCloses.get());

        SlowConnection failing = new SlowConnection();
        Viewer f = new Viewer(failing, 60_000_000_000L, () -> { });
        f.offer("v1");
        failing.writes.get(0).completeExceptionally(new java.io.IOException("connection reset"));
        assertTrue(f.closed() && failing.closed, "a failed write ends the connection");
    }
}
