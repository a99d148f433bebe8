package io.raftkv.storage.wal;

import io.raftkv.raft.HardState;
import io.raftkv.storage.BinaryReader;
import io.raftkv.storage.BinaryWriter;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The on-disk format of the segmented write-ahead log (all integers big-endian).
 * <pre>
 * segment file  wal/&lt;first index, 20 digits&gt;.seg, preallocated (sparse) to the segment size
 *   header, 64 bytes: 0 magic "RAFTKVWL" | 8 u32 version (1) | 12 u32 header size (64) | 16 u64 first index
 *                     | 24 u64 term of the entry before it | 32 u64 sequence (creation order) | 40 u32 CRC-32C of 0..40
 *                     | 44..64 zero
 *   records from offset 64, then zeros to the end of the file
 * record        0 u32 payload length | 4 u8 type (+0x80: the save goes on in the next record) | 5..8 zero
 *               | 8 u32 CRC-32C of the payload | 12 u32 CRC-32C of bytes 0..12 | 16 payload
 * types         1 entries ({@link io.raftkv.storage.EntryCodec} run), 2 hard state, 3 log start
 * </pre>
 * A save is one group of records (all but the last flagged 0x80), applied on recovery only if complete.
 */
final class WalFormat {

    static final byte[] MAGIC = "RAFTKVWL".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 64;
    static final int FRAME_BYTES = 16;
    static final int TYPE_ENTRIES = 1;
    static final int TYPE_HARD_STATE = 2;
    static final int TYPE_LOG_START = 3;
    static final int FLAG_CONTINUES = 0x80;
    static final String SUFFIX = ".seg";
    static final String TEMP_SUFFIX = ".seg.tmp";
    private static final int PAYLOAD_VERSION = 1;

    private WalFormat() {
    }

    static String fileName(long firstIndex) {
        return String.format("%020d", firstIndex) + SUFFIX;
    }

    /** The first index a segment file name stands for, or -1 if it is not a segment file name. */
    static long parseFileName(String name) {
        if (name.length() != 20 + SUFFIX.length() || !name.endsWith(SUFFIX)) {
            return -1;
        }
        long v = 0;
        for (int i = 0; i < 20; i++) {
            char c = name.charAt(i);
            if (c < '0' || c > '9' || v > (Long.MAX_VALUE - 9) / 10) {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }

    /** A segment header: the index its entries start at, the term before it, and its creation order. */
    record Header(long firstIndex, long prevTerm, long sequence) {
    }

    static byte[] encodeHeader(Header h) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES);
        b.put(MAGIC).putInt(VERSION).putInt(HEADER_BYTES).putLong(h.firstIndex()).putLong(h.prevTerm())
                .putLong(h.sequence());
        b.putInt(40, crc(b.array(), 0, 40));
        return b.array();
    }

    /** Decodes a header; {@link IllegalArgumentException} saying what is wrong (and at which offset) if invalid. */
    static Header decodeHeader(byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            throw new IllegalArgumentException("incomplete segment header at offset 0 (" + bytes.length + " of "
                    + HEADER_BYTES + " bytes)");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (!Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IllegalArgumentException("bad magic at offset 0: not a raftkv WAL segment");
        }
        if (b.getInt(40) != crc(bytes, 0, 40)) {
            throw new IllegalArgumentException("segment header checksum mismatch at offset 40");
        }
        if (b.getInt(8) != VERSION || b.getInt(12) != HEADER_BYTES) {
            throw new IllegalArgumentException("unsupported segment format version " + b.getInt(8) + " at offset 8");
        }
        for (int i = 44; i < HEADER_BYTES; i++) {
            if (bytes[i] != 0) {
                throw new IllegalArgumentException("non-zero reserved header byte at offset " + i);
            }
        }
        Header h = new Header(b.getLong(16), b.getLong(24), b.getLong(32));
        if (h.firstIndex() < 1 || h.prevTerm() < 0 || h.sequence() < 1) {
            throw new IllegalArgumentException("impossible segment header values at offset 16: " + h);
        }
        return h;
    }

    static int crc(byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(b, off, len);
        return (int) c.getValue();
    }

    /** A record to write: its type and payload. */
    record Rec(int type, byte[] payload) {
        int frameBytes() {
            return FRAME_BYTES + payload.length;
        }
    }

    /** One save's records framed back to back; {@link #offsets} gives each record's position in {@link #bytes}. */
    record Group(byte[] bytes, int[] offsets, List<Rec> records) {
    }

    static Group frame(List<Rec> records) {
        int total = 0;
        for (Rec r : records) {
            total = Math.addExact(total, r.frameBytes());
        }
        ByteBuffer b = ByteBuffer.allocate(total);
        int[] offsets = new int[records.size()];
        for (int i = 0; i < records.size(); i++) {
            Rec r = records.get(i);
            int at = b.position();
            offsets[i] = at;
            int type = r.type() | (i + 1 < records.size() ? FLAG_CONTINUES : 0);
            b.putInt(r.payload().length).put((byte) type).put((byte) 0).put((byte) 0).put((byte) 0);
            b.putInt(crc(r.payload(), 0, r.payload().length));
            b.putInt(crc(b.array(), at, 12));
            b.put(r.payload());
        }
        return new Group(b.array(), offsets, new ArrayList<>(records));
    }

    /** Why a 16-byte record header is not valid, or null if it is (CRC and reserved bytes). */
    static String checkFrameHeader(byte[] h) {
        ByteBuffer b = ByteBuffer.wrap(h);
        if (b.getInt(12) != crc(h, 0, 12)) {
            return "record header checksum mismatch";
        }
        if (h[5] != 0 || h[6] != 0 || h[7] != 0 || b.getInt(0) < 0) {
            return "malformed record header";
        }
        return null;
    }

    static byte[] encodeHardState(HardState hs) {
        BinaryWriter w = new BinaryWriter(32);
        w.writeByte(PAYLOAD_VERSION).writeVarLong(hs.term()).writeVarLong(hs.commit());
        w.writeByte(hs.votedFor() == null ? 0 : 1);
        if (hs.votedFor() != null) {
            w.writeString(hs.votedFor());
        }
        return w.toByteArray();
    }

    static HardState decodeHardState(byte[] payload) {
        BinaryReader r = new BinaryReader(payload);
        checkVersion(r.readByte("hard state version"));
        long term = r.readVarLong("term", 0, Long.MAX_VALUE);
        long commit = r.readVarLong("commit", 0, Long.MAX_VALUE);
        int hasVote = r.readByte("vote flag");
        if (hasVote > 1) {
            throw new IllegalArgumentException("bad vote flag " + hasVote);
        }
        String vote = hasVote == 1 ? r.readString("voted for") : null;
        r.expectEnd("hard state");
        return new HardState(term, vote, commit);
    }

    static byte[] encodeLogStart(long firstIndex, long prevTerm) {
        return new BinaryWriter(24).writeByte(PAYLOAD_VERSION).writeVarLong(firstIndex).writeVarLong(prevTerm)
                .toByteArray();
    }

    /** {first index, term before it}. */
    static long[] decodeLogStart(byte[] payload) {
        BinaryReader r = new BinaryReader(payload);
        checkVersion(r.readByte("log start version"));
        long first = r.readVarLong("first index", 1, Long.MAX_VALUE);
        long prevTerm = r.readVarLong("term before the first index", 0, Long.MAX_VALUE);
        r.expectEnd("log start");
        return new long[] {first, prevTerm};
    }

    private static void checkVersion(int v) {
        if (v != PAYLOAD_VERSION) {
            throw new IllegalArgumentException("unsupported record payload version " + v);
        }
    }
}
