package io.raftkv.peer;

import io.raftkv.transport.MalformedMessageException;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The frames of the peer channel. On the wire every frame is {@code u32 length} (of what follows), {@code u8 type},
 * then the type's fields, big-endian; strings are {@code u16 length} + UTF-8. A listener refuses (and closes the
 * connection on) a frame longer than its limit before reading it.
 * <pre>
 *   HELLO       u8 version, str from, str to                 first frame of a connection (client to listener)
 *   HELLO_OK    [u8 features]                                 the listener accepts the connection; features
 *                                                             (absent from older listeners = 0): 1 = answers PING
 *   REFUSED     str reason, str detail                        a refusal (of the connection, a batch or a chunk)
 *   MESSAGES    str cluster, str incarnation, batch           a {@link io.raftkv.transport.MessageCodec} batch
 *   ADMITTED                                                  the sender's batches are taken (again)
 *   CHUNK       u64 id, str cluster, str incarnation, u64 term, u64 index, u64 snapshotTerm, u64 offset,
 *               u64 total, bytes                              one chunk of a snapshot file
 *   CHUNK_REPLY u64 id, u16 status, u64 expectedOffset, str detail
 *   PING        u64 nonce                                     (client to listener, if the listener answers PING)
 *   PONG        u64 nonce                                     the answer, on the same connection, in order
 * </pre>
 * A chunk reply's status uses the HTTP codes the snapshot exchange always had: 204 more, 200 complete, 409 resume at
 * {@code expectedOffset} (or a stale term), 403 refused, 400 bad chunk, 422 rejected file, 507 no disk space.
 */
public final class PeerFrames {

    public static final byte VERSION = 1;
    public static final int HEADER_BYTES = 4;
    private static final int MAX_STRING_BYTES = 4096;

    /** Frame types; the codes are the wire format. */
    public enum Type {
        HELLO(1), HELLO_OK(2), REFUSED(3), MESSAGES(4), ADMITTED(5), CHUNK(6), CHUNK_REPLY(7), PING(8), PONG(9);

        public final int code;

        Type(int code) {
            this.code = code;
        }

        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            throw new MalformedMessageException("unknown peer frame type " + code);
        }
    }

    public record Hello(int version, String from, String to) {
    }

    public record Refused(String reason, String detail) {
    }

    /** {@code cluster} is empty while the sender knows no cluster id yet. */
    public record Messages(String cluster, String incarnation, byte[] batch) {
    }

    public record Chunk(long id, String cluster, String incarnation, long term, long index, long snapshotTerm,
                        long offset, long total, byte[] data) {
    }

    public record ChunkReply(long id, int status, long expectedOffset, String detail) {
    }

    private PeerFrames() {
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Encoding: each returns the whole frame, length prefix included.

    public static byte[] hello(String from, String to) {
        return frame(Type.HELLO, out -> {
            out.writeByte(VERSION);
            str(out, from);
            str(out, to);
        });
    }

    /** HELLO_OK's feature bit: the listener answers PING frames with PONG. */
    public static final int FEATURE_PING = 1;

    public static byte[] helloOk() {
        return frame(Type.HELLO_OK, out -> out.writeByte(FEATURE_PING));
    }

    /** The features a HELLO_OK announces: 0 from a listener that sends an empty HELLO_OK (an older node). */
    public static int decodeHelloOkFeatures(byte[] body) {
        return read(body, Type.HELLO_OK, in -> in.hasRemaining() ? in.get() & 0xff : 0);
    }

    public static byte[] ping(long nonce) {
        return frame(Type.PING, out -> out.writeLong(nonce));
    }

    public static byte[] pong(long nonce) {
        return frame(Type.PONG, out -> out.writeLong(nonce));
    }

    /** The nonce of a PING or PONG. */
    public static long decodeNonce(byte[] body) {
        Type t = type(body);
        if (t != Type.PING && t != Type.PONG) {
            throw new MalformedMessageException("expected PING or PONG, got " + t);
        }
        return read(body, t, java.nio.ByteBuffer::getLong);
    }

    public static byte[] admitted() {
        return frame(Type.ADMITTED, out -> { });
    }

    public static byte[] refused(String reason, String detail) {
        return frame(Type.REFUSED, out -> {
            str(out, reason);
            str(out, truncate(detail));
        });
    }

    public static byte[] messages(String cluster, String incarnation, byte[] batch) {
        return frame(Type.MESSAGES, out -> {
            str(out, cluster == null ? "" : cluster);
            str(out, incarnation == null ? "" : incarnation);
            out.write(batch);
        });
    }

    public static byte[] chunk(Chunk c) {
        return frame(Type.CHUNK, out -> {
            out.writeLong(c.id());
            str(out, c.cluster() == null ? "" : c.cluster());
            str(out, c.incarnation() == null ? "" : c.incarnation());
            out.writeLong(c.term());
            out.writeLong(c.index());
            out.writeLong(c.snapshotTerm());
            out.writeLong(c.offset());
            out.writeLong(c.total());
            out.write(c.data());
        });
    }

    public static byte[] chunkReply(ChunkReply r) {
        return frame(Type.CHUNK_REPLY, out -> {
            out.writeLong(r.id());
            out.writeShort(r.status());
            out.writeLong(r.expectedOffset());
            str(out, truncate(r.detail() == null ? "" : r.detail()));
        });
    }

    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] frame(Type type, Body body) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(0);
            out.writeByte(type.code);
            body.write(out);
            out.flush();
            byte[] b = bytes.toByteArray();
            ByteBuffer.wrap(b).putInt(0, b.length - HEADER_BYTES);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String truncate(String s) {
        return s.length() > 1000 ? s.substring(0, 1000) + "..." : s;
    }

    private static void str(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_STRING_BYTES) {
            throw new IllegalArgumentException("string of " + b.length + " bytes in a peer frame");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Decoding: of a frame's body (what follows the length prefix). Bad input throws MalformedMessageException.

    /** The length a frame header announces; {@code maxBytes} is the listener's limit. */
    public static int length(int announced, int maxBytes) {
        if (announced < 1) {
            throw new MalformedMessageException("empty peer frame");
        }
        if (announced > maxBytes) {
            throw new FrameTooLargeException(announced, maxBytes);
        }
        return announced;
    }

    public static Type type(byte[] body) {
        if (body.length == 0) {
            throw new MalformedMessageException("empty peer frame");
        }
        return Type.of(body[0]);
    }

    public static Hello decodeHello(byte[] body) {
        return read(body, Type.HELLO, in -> new Hello(in.get(), str(in), str(in)));
    }

    public static Refused decodeRefused(byte[] body) {
        return read(body, Type.REFUSED, in -> new Refused(str(in), str(in)));
    }

    public static Messages decodeMessages(byte[] body) {
        return read(body, Type.MESSAGES, in -> new Messages(str(in), str(in), rest(in)));
    }

    public static Chunk decodeChunk(byte[] body) {
        return read(body, Type.CHUNK, in -> new Chunk(in.getLong(), str(in), str(in), in.getLong(), in.getLong(),
                in.getLong(), in.getLong(), in.getLong(), rest(in)));
    }

    public static ChunkReply decodeChunkReply(byte[] body) {
        return read(body, Type.CHUNK_REPLY, in -> new ChunkReply(in.getLong(), in.getShort() & 0xffff, in.getLong(), str(in)));
    }

    private interface Reader<T> {
        T read(ByteBuffer in);
    }

    private static <T> T read(byte[] body, Type expected, Reader<T> reader) {
        if (type(body) != expected) {
            throw new MalformedMessageException("expected a " + expected + " frame, got " + type(body));
        }
        ByteBuffer in = ByteBuffer.wrap(body, 1, body.length - 1);
        try {
            T t = reader.read(in);
            if (in.hasRemaining()) {
                throw new MalformedMessageException(in.remaining() + " trailing bytes in a " + expected + " frame");
            }
            return t;
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("truncated " + expected + " frame");
        }
    }

    private static String str(ByteBuffer in) {
        int len = in.getShort() & 0xffff;
        if (len > MAX_STRING_BYTES || len > in.remaining()) {
            throw new MalformedMessageException("bad string length " + len + " in a peer frame");
        }
        byte[] b = new byte[len];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] rest(ByteBuffer in) {
        byte[] b = new byte[in.remaining()];
        in.get(b);
        return b;
    }

    /** A frame header announced more bytes than the listener takes. */
    public static final class FrameTooLargeException extends MalformedMessageException {
        public FrameTooLargeException(int announced, int max) {
            super("peer frame of " + announced + " bytes, the limit is " + max + " (raftkv.peer-max-frame-bytes)");
        }
    }
}
