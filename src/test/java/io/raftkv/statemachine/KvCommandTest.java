package io.raftkv.statemachine;

import io.raftkv.statemachine.KvCommand.Condition;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KvCommandTest {

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static List<KvCommand> samples() {
        byte[] big = new byte[100_000];
        new Random(3).nextBytes(big);
        return List.of(
                KvCommand.put("a", b("1")),
                KvCommand.put("", new byte[0]),
                KvCommand.put("ключ/日本/🎉", big),
                KvCommand.put("k", b("v"), Condition.version(42)),
                KvCommand.put("k", b("v"), Condition.absent()),
                KvCommand.put("k", b("v"), Condition.value(b("old"))),
                KvCommand.put("k", b("v"), Condition.value(new byte[0])),
                KvCommand.delete("k"),
                KvCommand.delete("k", Condition.version(Long.MAX_VALUE)),
                KvCommand.delete("k", Condition.value(b("x"))),
                KvCommand.put("k", b("v")).withClient("client-7", 12),
                KvCommand.delete("k", Condition.absent()).withClient("ç", -1),
                KvCommand.put("line\nbreak\u0000nul", b("v")).withClient("", Long.MAX_VALUE));
    }

    @Test
    void roundTrip() {
        for (KvCommand c : samples()) {
            byte[] bytes = c.encode();
            assertEquals(KvCommand.FORMAT_VERSION, bytes[0]);
            KvCommand back = KvCommand.decode(bytes);
            assertEquals(c, back, c.toString());
            assertArrayEquals(bytes, back.encode());
        }
    }

    @Test
    void fieldsAfterDecode() {
        KvCommand c = KvCommand.decode(KvCommand.put("k", b("v"), Condition.version(5)).withClient("c1", 9).encode());
        assertEquals(KvCommand.Op.PUT, c.op());
        assertEquals("k", c.key());
        assertArrayEquals(b("v"), c.value());
        assertEquals(new KvCommand.VersionIs(5), c.condition());
        assertEquals("c1", c.clientId());
        assertEquals(9, c.sequence());

        KvCommand d = KvCommand.decode(KvCommand.delete("k").encode());
        assertEquals(KvCommand.Op.DELETE, d.op());
        assertNull(d.value());
        assertEquals(Condition.NONE, d.condition());
        assertNull(d.clientId());
    }

    @Test
    void smallCommandsAreSmall() {
        assertTrue(KvCommand.put("key", b("value")).encode().length <= 16);
    }

    @Test
    void garbageIsRejectedWithAClearMessage() {
        assertInvalid(new byte[0], "empty");
        assertInvalid(null, "empty");
        assertInvalid(new byte[] {9, 1, 0, 1, 'k', 1, 'v', 0}, "format version");
        assertInvalid(new byte[] {1, 7, 0, 1, 'k', 0}, "operation");
        assertInvalid(new byte[] {1, 1, 4, 1, 'k', 1, 'v', 0}, "flags");
        assertInvalid(new byte[] {1, 1, 0, 1, 'k', 1, 'v', 5}, "condition");
        assertInvalid(new byte[] {1, 1, 0, 2, (byte) 0xC3, (byte) 0x28, 1, 'v', 0}, "UTF-8");
        byte[] ok = KvCommand.put("k", b("v")).encode();
        byte[] trailing = Arrays.copyOf(ok, ok.length + 1);
        assertInvalid(trailing, "trailing");
        byte[] hugeLength = {1, 1, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x07};
        assertInvalid(hugeLength, "truncated");
    }

    @Test
    void everyTruncationIsRejected() {
        for (KvCommand c : samples()) {
            byte[] bytes = c.encode();
            for (int len = 0; len < Math.min(bytes.length, 300); len++) {
                byte[] cut = Arrays.copyOf(bytes, len);
                assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(cut), c + " cut at " + len);
            }
        }
    }

    @Test
    void randomBytesNeverDecodeIntoSomethingElseSilently() {
        Random rnd = new Random(11);
        for (int i = 0; i < 5000; i++) {
            byte[] junk = new byte[rnd.nextInt(40)];
            rnd.nextBytes(junk);
            try {
                KvCommand c = KvCommand.decode(junk);
                // whatever decodes must be exactly what it re-encodes to
                assertArrayEquals(junk, c.encode());
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().startsWith("invalid KV command"), e.getMessage());
            }
        }
    }

    @Test
    void invalidCommandsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> KvCommand.put("\uD800", b("v")).encode(), "unpaired surrogate");
        assertThrows(NullPointerException.class, () -> KvCommand.put(null, b("v")));
        assertThrows(NullPointerException.class, () -> KvCommand.put("k", null));
        assertThrows(IllegalArgumentException.class, () -> new KvCommand(KvCommand.Op.DELETE, "k", b("v"), null, null, 0));
        assertThrows(IllegalArgumentException.class, () -> Condition.version(-1));
        assertThrows(IllegalArgumentException.class, () -> new KvCommand(KvCommand.Op.PUT, "k", b("v"), null, null, 3));
        assertEquals(Condition.NONE, new KvCommand(KvCommand.Op.PUT, "k", b("v"), null, null, 0).condition());
    }

    static void assertInvalid(byte[] bytes, String expectedInMessage) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KvCommand.decode(bytes));
        assertTrue(e.getMessage().startsWith("invalid KV command"), e.getMessage());
        assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
    }
}
