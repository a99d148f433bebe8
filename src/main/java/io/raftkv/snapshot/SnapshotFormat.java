package io.raftkv.snapshot;

import io.raftkv.raft.SnapshotMeta;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The snapshot file format (version 3). Streamable: written and read front to back, no random access. Integers are
 * big-endian fixed width ("u8" = 8 bytes) or unsigned LEB128 varints ("varint"), strings are length-prefixed UTF-8.
 * <pre>
 *   header   4 bytes  magic "RKVS"
 *            1 byte   format version (3; versions 1 and 2 are still read)
 *            u8       index of the last log entry the snapshot covers (lastIncludedIndex, at least 1)
 *            u8       term of that entry (lastIncludedTerm, at least 1)
 *            varint   configuration length, then that many bytes: the cluster configuration as of the index.
 *                     Opaque to this package; a node writes {@link io.raftkv.raft.Configuration#encode()} there (u8
 *                     encoding version 1, u32 voter count, each voter as u16 length + UTF-8, u32 learner count, each
 *                     learner likewise), or nothing when unknown. Version 1 files predate membership changes: their
 *                     bytes say nothing ({@link SnapshotHeader#raftConfiguration()} is null)
 *            varint   sessions length, then that many bytes: the client sessions as of the index
 *                     (io.raftkv.statemachine.ClientSessions#encodeAll). Versions 1 and 2 have no such field: no
 *                     sessions
 *            u8       key count
 *   records  key count times, in strictly increasing key order ({@link String#compareTo}):
 *            varint   key length, then the key in UTF-8
 *            varint   version (index of the entry that last wrote the key; 1..index)
 *            varint   create index (index of the entry that created it; 1..version)
 *            varint   value length, then the value
 *   trailer  4 bytes  end magic "RKVE"
 *            u8       record count (equal to the key count)
 *            4 bytes  CRC32C of every byte before it
 * </pre>
 * Files are named {@code snap-<index, 20 digits>-<term>.snap} so that names sort by index.
 */
public final class SnapshotFormat {

    public static final int MAGIC = 0x524B5653; // "RKVS"
    public static final int END_MAGIC = 0x524B5645; // "RKVE"
    public static final int VERSION = 3;
    /** The oldest version still read (see the class comment for what each version adds). */
    public static final int OLDEST_READABLE_VERSION = 1;
    /** From this version on the configuration bytes hold the Raft configuration. */
    public static final int VERSION_WITH_CONFIGURATION = 2;
    /** From this version on the header holds the client sessions. */
    public static final int VERSION_WITH_SESSIONS = 3;
    /** Header size without the configuration bytes and their length. */
    static final int HEADER_FIXED = 4 + 1 + 8 + 8 + 8;
    static final int TRAILER = 4 + 8 + 4;

    static final String SUFFIX = ".snap";
    static final String TEMP_SUFFIX = ".tmp";
    private static final Pattern NAME = Pattern.compile("snap-(\\d{20})-(\\d{1,19})\\.snap");

    private SnapshotFormat() {
    }

    /** The file name of the snapshot at {@code meta}. */
    public static String fileName(SnapshotMeta meta) {
        return String.format("snap-%020d-%d%s", meta.index(), meta.term(), SUFFIX);
    }

    /** The snapshot point a file name stands for, if it is a snapshot file name. */
    public static Optional<SnapshotMeta> parseFileName(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            long index = Long.parseLong(m.group(1));
            long term = Long.parseLong(m.group(2));
            if (index < 1 || term < 1) {
                return Optional.empty();
            }
            return Optional.of(new SnapshotMeta(index, term));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
