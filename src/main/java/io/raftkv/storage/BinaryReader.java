package io.raftkv.storage;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads what {@link BinaryWriter} wrote. Every read is bounds-checked: truncated or garbage input fails with an
 * {@link IllegalArgumentException} that says what was expected where, never with an allocation driven by a garbage
 * length.
 */
public final class BinaryReader {

    private final byte[] buf;
    private final int end;
    private int pos;

    public BinaryReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    public BinaryReader(byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || offset + length > buf.length) {
            throw new IndexOutOfBoundsException("range " + offset + "+" + length + " of " + buf.length);
        }
        this.buf = buf;
        this.pos = offset;
        this.end = offset + length;
    }

    public int position() {
        return pos;
    }

    public int remaining() {
        return end - pos;
    }

    private void need(int n, String what) {
        if (n < 0 || n > end - pos) {
            throw new IllegalArgumentException("truncated input: " + what + " needs " + n + " bytes at offset " + pos
                    + ", " + (end - pos) + " left");
        }
    }

    public int readByte(String what) {
        need(1, what);
        return buf[pos++] & 0xFF;
    }

    public int readInt(String what) {
        need(4, what);
        int v = ((buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8)
                | (buf[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    /**
     * An unsigned LEB128 number of at most 10 bytes, in its shortest form (an overlong encoding is rejected, so that
     * every value has exactly one encoding).
     */
    public long readVarLong(String what) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            int b = readByte(what);
            if ((shift == 63 && (b & 0xFE) != 0) || (shift > 0 && b == 0)) {
                throw new IllegalArgumentException("malformed varint for " + what + " at offset " + (pos - 1));
            }
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("malformed varint for " + what + " at offset " + pos);
    }

    /** A varint that must be in {@code [min, max]}. */
    public long readVarLong(String what, long min, long max) {
        int at = pos;
        long v = readVarLong(what);
        if (v < min || v > max) {
            throw new IllegalArgumentException(what + " out of range at offset " + at + ": " + v);
        }
        return v;
    }

    public byte[] readRaw(int n, String what) {
        need(n, what);
        byte[] out = new byte[n];
        System.arraycopy(buf, pos, out, 0, n);
        pos += n;
        return out;
    }

    /** A varint length followed by that many bytes. */
    public byte[] readBytes(String what) {
        int n = (int) readVarLong(what + " length", 0, Integer.MAX_VALUE);
        return readRaw(n, what);
    }

    /** A length-prefixed string in strict UTF-8 (malformed UTF-8 is an error, not a replacement character). */
    public String readString(String what) {
        int n = (int) readVarLong(what + " length", 0, Integer.MAX_VALUE);
        need(n, what);
        try {
            String s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(buf, pos, n))
                    .toString();
            pos += n;
            return s;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("malformed UTF-8 in " + what + " at offset " + pos);
        }
    }

    /** Fails unless every byte has been read. */
    public void expectEnd(String what) {
        if (pos != end) {
            throw new IllegalArgumentException((end - pos) + " unexpected trailing bytes after " + what);
        }
    }
}
