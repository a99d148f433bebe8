package io.raftkv.transport;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The peer wire format: a batch of messages in a compact binary encoding. Decoding validates every length against
 * what is left, so a malformed body fails with {@link MalformedMessageException} and never yields a partial batch.
 */
public final class MessageCodec {

    static final int MAGIC = 0x52414654; // "RAFT"
    static final byte VERSION = 1;
    private static final int MAX_ID_BYTES = 256;

    private MessageCodec() {
    }

    public static byte[] encode(List<Message> batch) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeInt(MAGIC);
            out.writeByte(VERSION);
            out.writeInt(batch.size());
            for (Message m : batch) {
                out.writeByte(m.type().code);
                writeString(out, m.from());
                writeString(out, m.to());
                out.writeLong(m.term());
                out.writeLong(m.logTerm());
                out.writeLong(m.index());
                out.writeLong(m.commit());
                out.writeBoolean(m.reject());
                out.writeLong(m.hintIndex());
                out.writeLong(m.hintTerm());
                out.writeLong(m.context());
                out.writeInt(m.entries().size());
                for (Entry e : m.entries()) {
                    out.writeLong(e.term());
                    out.writeLong(e.index());
                    out.writeByte(e.type().code);
                    out.writeInt(e.data().length);
                    out.write(e.data());
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.writeShort(b.length);
        out.write(b);
    }

    public static List<Message> decode(byte[] body) {
        if (body == null) {
            throw new MalformedMessageException("empty body");
        }
        ByteBuffer in = ByteBuffer.wrap(body);
        try {
            if (in.getInt() != MAGIC) {
                throw new MalformedMessageException("not a raftkv peer message (bad magic)");
            }
            byte version = in.get();
            if (version != VERSION) {
                throw new MalformedMessageException("unsupported peer message version " + version);
            }
            int count = in.getInt();
            // The smallest message is well over 16 bytes: reject absurd counts before allocating.
            if (count < 0 || count > in.remaining() / 16) {
                throw new MalformedMessageException("bad message count " + count);
            }
            List<Message> batch = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                batch.add(readMessage(in));
            }
            if (in.hasRemaining()) {
                throw new MalformedMessageException(in.remaining() + " trailing bytes");
            }
            return batch;
        } catch (BufferUnderflowException e) {
            throw new MalformedMessageException("truncated message");
        } catch (IllegalArgumentException e) {
            throw new MalformedMessageException(e.getMessage());
        }
    }

    private static Message readMessage(ByteBuffer in) {
        MessageType type = MessageType.fromCode(in.get());
        String from = readString(in);
        String to = readString(in);
        long term = nonNegative(in.getLong(), "term");
        long logTerm = nonNegative(in.getLong(), "logTerm");
        long index = nonNegative(in.getLong(), "index");
        long commit = nonNegative(in.getLong(), "commit");
        byte rejectByte = in.get();
        if (rejectByte != 0 && rejectByte != 1) {
            throw new MalformedMessageException("bad reject flag " + rejectByte);
        }
        long hintIndex = nonNegative(in.getLong(), "hintIndex");
        long hintTerm = nonNegative(in.getLong(), "hintTerm");
        long context = nonNegative(in.getLong(), "context");
        int entryCount = in.getInt();
        if (entryCount < 0 || entryCount > in.remaining() / 21) {
            throw new MalformedMessageException("bad entry count " + entryCount);
        }
        List<Entry> entries = new ArrayList<>(entryCount);
        long expectedIndex = index + 1;
        for (int i = 0; i < entryCount; i++) {
            long eTerm = nonNegative(in.getLong(), "entry term");
            long eIndex = in.getLong();
            if (eIndex != expectedIndex++) {
                throw new MalformedMessageException("entries are not contiguous after index " + index);
            }
            EntryType eType = EntryType.fromCode(in.get());
            int len = in.getInt();
            if (len < 0 || len > in.remaining()) {
                throw new MalformedMessageException("bad entry length " + len);
            }
            byte[] data = new byte[len];
            in.get(data);
            entries.add(new Entry(eTerm, eIndex, eType, data));
        }
        return new Message(type, from, to, term, logTerm, index, entries, commit, rejectByte == 1, hintIndex, hintTerm, context);
    }

    private static long nonNegative(long v, String what) {
        if (v < 0) {
            throw new MalformedMessageException("negative " + what);
        }
        return v;
    }

    private static String readString(ByteBuffer in) {
        int len = in.getShort() & 0xffff;
        if (len == 0 || len > MAX_ID_BYTES || len > in.remaining()) {
            throw new MalformedMessageException("bad node id length " + len);
        }
        byte[] b = new byte[len];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }
}
