package io.raftkv.it;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Shared by the integration tests: waiting on a condition with a deadline, and reading a field of a JSON answer. */
public final class Waits {

    private Waits() {
    }

    /** Polls {@code probe} until it yields a value; fails after {@code timeout} naming {@code what}. */
    public static <T> T await(String what, Duration timeout, Supplier<Optional<T>> probe) throws InterruptedException {
        return await(what, timeout, 20, probe);
    }

    /** As {@link #await(String, Duration, Supplier)}, polling every {@code pollMillis}. */
    public static <T> T await(String what, Duration timeout, long pollMillis, Supplier<Optional<T>> probe)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> v = probe.get();
            if (v.isPresent()) {
                return v.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(pollMillis);
        }
    }

    /** A top-level string, number, boolean or null field of a flat JSON object, as text (null if absent). */
    public static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\"([^\"]*)\"|(-?\\d+)|null|true|false)").matcher(json);
        if (!m.find()) {
            return null;
        }
        return m.group(2) != null ? m.group(2) : m.group(3) != null ? m.group(3) : m.group(1);
    }
}
