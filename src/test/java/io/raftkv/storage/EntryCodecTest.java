package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EntryCodecTest {

    @Test
    void roundTrip() {
        List<Entry> entries = List.of(
                Entry.noop(3, 10),
                new Entry(3, 11, EntryType.COMMAND, new byte[] {1, 2, 3}),
                new Entry(Long.MAX_VALUE, 12, EntryType.CONFIG, new byte[300]));
        byte[] rec = EntryCodec.encode(entries);
        assertEquals(EntryCodec.FORMAT_VERSION, rec[0]);
        assertEquals(entries, Arrays.asList(EntryCodec.decode(rec)));
        assertEquals(entries.subList(1, 2), Arrays.asList(EntryCodec.decode(EntryCodec.encode(entries, 1, 2))));
        // compact: a small entry takes a few bytes beyond its data
        assertTrue(EntryCodec.encode(List.of(new Entry(5, 1000, EntryType.COMMAND, new byte[256]))).length < 256 + 14);
    }

    @Test
    void refusesNonConsecutiveOrEmpty() {
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.encode(List.of(Entry.noop(1, 1), Entry.noop(1, 3))));
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.encode(List.of()));
    }

    @Test
    void detectsDamage() {
        byte[] rec = EntryCodec.encode(List.of(Entry.noop(1, 1), new Entry(1, 2, EntryType.COMMAND, new byte[] {9})));
        for (int i = 0; i < rec.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = rec.clone();
                bad[i] ^= (byte) (1 << bit);
                assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode(bad), "byte " + i + " bit " + bit);
            }
        }
        for (int len = 0; len < rec.length; len++) {
            byte[] cut = Arrays.copyOf(rec, len);
            assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode(cut), "cut at " + len);
        }
        byte[] junk = new byte[1000];
        new Random(4).nextBytes(junk);
        junk[0] = EntryCodec.FORMAT_VERSION;
        assertThrows(IllegalArgumentException.class, () -> EntryCodec.decode(junk));
    }

    @Test
    void varintsRoundTripAndRejectMalformedInput() {
        long[] values = {0, 1, 127, 128, 300, 16383, 16384, Integer.MAX_VALUE, Long.MAX_VALUE, -1, Long.MIN_VALUE};
        BinaryWriter w = new BinaryWriter();
        for (long v : values) {
            w.writeVarLong(v);
        }
        BinaryReader r = new BinaryReader(w.toByteArray());
        for (long v : values) {
            assertEquals(v, r.readVarLong("v"));
        }
        r.expectEnd("values");
        assertEquals(1, new BinaryWriter().writeVarLong(127).size());
        assertEquals(10, new BinaryWriter().writeVarLong(-1).size());

        assertThrows(IllegalArgumentException.class, () -> new BinaryReader(new byte[] {(byte) 0x80, 0}).readVarLong("overlong"));
        assertThrows(IllegalArgumentException.class, () -> new BinaryReader(new byte[] {(byte) 0x80}).readVarLong("truncated"));
        byte[] tooLong = new byte[11];
        Arrays.fill(tooLong, (byte) 0xFF);
        assertThrows(IllegalArgumentException.class, () -> new BinaryReader(tooLong).readVarLong("too long"));
        assertThrows(IllegalArgumentException.class, () -> new BinaryReader(new byte[] {5}).readVarLong("ranged", 0, 4));
    }

    @Test
    void stringsAreStrictUtf8() {
        byte[] enc = new BinaryWriter().writeString("héllo 🎉").toByteArray();
        assertEquals("héllo 🎉", new BinaryReader(enc).readString("s"));
        assertThrows(IllegalArgumentException.class, () -> new BinaryWriter().writeString("bad \uDC00"));
        assertThrows(IllegalArgumentException.class,
                () -> new BinaryReader(new byte[] {2, (byte) 0xC0, (byte) 0x80}).readString("overlong NUL"));
        assertArrayEquals(new byte[] {0}, new BinaryWriter().writeString("").toByteArray());
    }
}
