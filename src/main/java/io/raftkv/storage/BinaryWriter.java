package io.raftkv.storage;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A growable byte buffer for the compact binary formats of raftkv (log records, commands, stored values). Unsigned
 * LEB128 variable-length integers keep small numbers small; {@link BinaryReader} reads them back.
 */
public final class BinaryWriter {

    private byte[] buf;
    private int size;

    public BinaryWriter() {
        this(64);
    }

    public BinaryWriter(int initialCapacity) {
        buf = new byte[Math.max(16, initialCapacity)];
    }

    public int size() {
        return size;
    }

    private void ensure(int extra) {
        int needed = size + extra;
        if (needed < 0) {
            throw new IllegalArgumentException("encoded value too large");
        }
        if (needed > buf.length) {
            int grown = Math.max(needed, buf.length * 2);
            buf = Arrays.copyOf(buf, grown < 0 ? Integer.MAX_VALUE - 8 : grown);
        }
    }

    public BinaryWriter writeByte(int b) {
        ensure(1);
        buf[size++] = (byte) b;
        return this;
    }

    /** Four bytes, big-endian. */
    public BinaryWriter writeInt(int v) {
        ensure(4);
        buf[size++] = (byte) (v >>> 24);
        buf[size++] = (byte) (v >>> 16);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
        return this;
    }

    /** Writes {@code v} as an unsigned LEB128 number: 1 byte below 128, at most 10 bytes (negative values take 10). */
    public BinaryWriter writeVarLong(long v) {
        ensure(10);
        while ((v & ~0x7FL) != 0) {
            buf[size++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[size++] = (byte) v;
        return this;
    }

    /** Raw bytes, no length. */
    public BinaryWriter writeRaw(byte[] bytes) {
        ensure(bytes.length);
        System.arraycopy(bytes, 0, buf, size, bytes.length);
        size += bytes.length;
        return this;
    }

    /** A length (varint) followed by the bytes. */
    public BinaryWriter writeBytes(byte[] bytes) {
        writeVarLong(bytes.length);
        return writeRaw(bytes);
    }

    /**
     * A string as length-prefixed UTF-8. Strings that are not valid Unicode (an unpaired surrogate) are rejected
     * rather than silently replaced, so what is stored is exactly what was given.
     */
    public BinaryWriter writeString(String s) {
        return writeBytes(utf8(s));
    }

    /** Strict UTF-8 encoding: {@link IllegalArgumentException} for a string with an unpaired surrogate. */
    public static byte[] utf8(String s) {
        CharsetEncoder enc = StandardCharsets.UTF_8.newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            ByteBuffer bb = enc.encode(CharBuffer.wrap(s));
            byte[] out = new byte[bb.remaining()];
            bb.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("string is not valid Unicode (unpaired surrogate): " + e.getMessage());
        }
    }

    /** Overwrites four bytes at {@code pos} (big-endian), e.g. a checksum reserved earlier. */
    public void putInt(int pos, int v) {
        if (pos < 0 || pos + 4 > size) {
            throw new IndexOutOfBoundsException("putInt at " + pos + " of " + size);
        }
        buf[pos] = (byte) (v >>> 24);
        buf[pos + 1] = (byte) (v >>> 16);
        buf[pos + 2] = (byte) (v >>> 8);
        buf[pos + 3] = (byte) v;
    }

    /** The internal buffer (valid up to {@link #size()}); for checksumming without a copy. */
    byte[] buffer() {
        return buf;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }
}
