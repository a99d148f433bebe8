package io.raftkv.raft;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The data of a {@link EntryType#CONFIG} log entry: the change the leader accepted and the configuration it results
 * in. Carrying the whole resulting configuration (not just the change) means a node learns its configuration from an
 * entry alone: one that joins with no history, or whose log starts after a snapshot, needs no earlier entries to
 * interpret it. The change is kept for the runtime (the added member's address is in its context) and for checks.
 * <p>
 * Binary encoding, big-endian, stable (it is in every log and snapshot):
 * <pre>
 *   u8      version (1)
 *   u8      change type ({@link ConfChange.Type#code}: 1 ADD_LEARNER, 2 PROMOTE, 3 REMOVE,
 *                                              4 FORCE_NEW_CLUSTER)
 *   u16     node id length, then the node id in UTF-8
 *   u32     context length, then the context bytes
 *   ...     the resulting configuration, as {@link Configuration#encode()}
 * </pre>
 */
public record ConfigEntry(ConfChange change, Configuration configuration) {

    static final int VERSION = 1;

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeByte(change.type().code);
            Configuration.writeString(out, change.nodeId());
            byte[] ctx = change.context();
            out.writeInt(ctx.length);
            out.write(ctx);
            out.write(configuration.encode());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    public static ConfigEntry decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new IllegalArgumentException("unsupported CONFIG entry version " + version);
            }
            ConfChange.Type type = ConfChange.Type.fromCode(in.readUnsignedByte());
            String id = Configuration.readString(in);
            int n = in.readInt();
            if (n < 0 || n > in.available()) {
                throw new IllegalArgumentException("impossible context length " + n);
            }
            byte[] ctx = new byte[n];
            in.readFully(ctx);
            Configuration c = Configuration.read(in);
            if (in.available() > 0) {
                throw new IllegalArgumentException(in.available() + " bytes after the CONFIG entry");
            }
            return new ConfigEntry(new ConfChange(type, id, ctx), c);
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed CONFIG entry: " + e, e);
        }
    }

    /** The configuration a CONFIG entry puts in effect. */
    public static Configuration configurationOf(Entry e) {
        if (e.type() != EntryType.CONFIG) {
            throw new IllegalArgumentException(e + " is not a CONFIG entry");
        }
        return decode(e.data()).configuration();
    }
}
