package io.raftkv.raft;

import java.util.List;

/**
 * What the core hands the runtime after it has been stepped. The runtime must, in this order:
 * <ol>
 * <li>install {@link #snapshot()} (if not null): the snapshot data received with the SNAPSHOT message becomes the
 * state machine, and the log is reset to start right after the snapshot's index (see {@link SnapshotMeta});</li>
 * <li>persist {@link #hardState()} (if not null) and {@link #entries()} durably, in one atomic write;</li>
 * <li>send {@link #messages()};</li>
 * <li>apply {@link #committedEntries()} to the state machine, in order;</li>
 * <li>serve reads whose {@link #readStates()} index has been applied;</li>
 * <li>call {@link Raft#advance(Ready)}.</li>
 * </ol>
 * {@link #softState()} is not persisted; it is non-null when the role or the known leader changed.
 * <p>
 * {@link EntryType#CONFIG} entries ({@link ConfigEntry}) may appear in {@link #entries()} and
 * {@link #committedEntries()}. Their configuration is already in effect in the core ({@link Raft#configuration()})
 * from the moment they are appended; the state machine applies them as no-ops. The runtime decodes them for the
 * change's context (a new member's address), which is carried only in the entry: the {@link Configuration} a snapshot
 * records holds ids only, so a runtime that needs addresses after compaction must keep them itself.
 */
public record Ready(SoftState softState, HardState hardState, SnapshotMeta snapshot, List<Entry> entries, List<Message> messages,
                    List<Entry> committedEntries, List<ReadState> readStates) {

    /** Role, leader and term: what the runtime reports and logs, never persisted. */
    public record SoftState(Role role, String leader, long term) {
    }

    public boolean isEmpty() {
        return softState == null && hardState == null && snapshot == null && entries.isEmpty() && messages.isEmpty()
                && committedEntries.isEmpty() && readStates.isEmpty();
    }
}
