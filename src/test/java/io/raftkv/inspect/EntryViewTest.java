package io.raftkv.inspect;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.statemachine.KvCommand;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How one entry reads: text and hex heads, conditions, configuration and undecodable payloads. */
class EntryViewTest {

    private static EntryView cmd(KvCommand c) {
        return EntryView.of(new Entry(3, 9, EntryType.COMMAND, c.encode()));
    }

    @Test
    void valuesShowTheirHeadAsTextOrHex() {
        assertEquals("PUT k (0 bytes)", cmd(KvCommand.put("k", new byte[0])).text());
        assertEquals("PUT k (1 byte: \"\\\"\")", cmd(KvCommand.put("k", new byte[] {'"'})).text());
        assertEquals("PUT k (3 bytes: 0x000aff)", cmd(KvCommand.put("k", new byte[] {0, 10, -1})).text());
        assertEquals("PUT k (2 bytes: 0x610a)", cmd(KvCommand.put("k", "a\n".getBytes(StandardCharsets.UTF_8))).text());
        // a multi-byte character cut by the head is dropped, not a reason to show hex
        String v = "a".repeat(31) + "é";
        EntryView e = cmd(KvCommand.put("k", v.getBytes(StandardCharsets.UTF_8)));
        assertEquals("PUT k (33 bytes: \"" + "a".repeat(31) + "\"…)", e.text());
        assertEquals("a".repeat(31), e.json().get("value"));
        assertEquals(true, e.json().get("valueTruncated"));
        assertEquals("PUT line\\nbreak (1 byte: \"x\")", cmd(KvCommand.put("line\nbreak", new byte[] {'x'})).text());
        assertEquals("line\nbreak", cmd(KvCommand.put("line\nbreak", new byte[] {'x'})).json().get("key"));
    }

    @Test
    void conditionsAndClients() {
        assertEquals("DELETE k if absent", cmd(KvCommand.delete("k", KvCommand.Condition.absent())).text());
        assertEquals("DELETE k if version = 4 [client c #2]",
                cmd(KvCommand.delete("k", KvCommand.Condition.version(4)).withClient("c", 2)).text());
        EntryView v = cmd(KvCommand.put("k", new byte[] {1}, KvCommand.Condition.value(new byte[] {2})));
        assertEquals("PUT k (1 byte: 0x01) if value = (1 byte: 0x02)", v.text());
        assertEquals("02", v.json().get("ifValueHex"));
        assertEquals("       9  term 3    " + v.text(), v.line());
    }

    @Test
    void noopConfigAndUndecodableEntries() {
        EntryView noop = EntryView.of(Entry.noop(2, 1));
        assertEquals("NOOP", noop.type());
        assertTrue(noop.text().startsWith("NOOP"));
        byte[] cfg = new byte[40];
        cfg[0] = 0x11;
        EntryView config = EntryView.of(new Entry(2, 5, EntryType.CONFIG, cfg));
        assertEquals("CONFIG (40 bytes: 0x11" + "00".repeat(31) + "…)", config.text());
        assertEquals(40, config.json().get("bytes"));
        EntryView bad = EntryView.of(new Entry(2, 6, EntryType.COMMAND, new byte[] {9, 9}));
        assertTrue(bad.text().startsWith("undecodable command (2 bytes: 0x0909)"), bad.text());
        assertTrue(bad.json().containsKey("error"));
        assertNull(bad.json().get("key"));
    }

    @Test
    void configurationEntriesShowTheChangeAndTheConfigurationItLeadsTo() {
        io.raftkv.raft.ConfigEntry c = new io.raftkv.raft.ConfigEntry(
                io.raftkv.raft.ConfChange.addLearner("n4", "http://n4:8080".getBytes(StandardCharsets.UTF_8)),
                new io.raftkv.raft.Configuration(java.util.List.of("n1", "n2", "n3"), java.util.List.of("n4")));
        EntryView e = EntryView.of(new Entry(3, 9, EntryType.CONFIG, c.encode()));
        assertEquals("CONFIG ADD_LEARNER n4 (http://n4:8080) -> voters [n1, n2, n3], learners [n4]", e.text());
        assertEquals("n4", e.json().get("member"));
        assertEquals("http://n4:8080", e.json().get("address"));
    }
}
