package io.raftkv.raft;

import java.util.ArrayList;
import java.util.List;

/**
 * The core's side of the {@link Ready} hand-off: the messages queued since the last Ready, and the soft and hard state
 * last handed out, so that a Ready carries only what changed. The entries to persist, the snapshot to install and the
 * entries to apply come from the {@link RaftLog}, which records how far they were handed out; the read states come
 * from the {@link ReadIndexQueue}.
 */
final class ReadyHandOff {

    private final RaftLog log;
    private final ReadIndexQueue reads;
    private final long maxApplyBytes;
    private List<Message> outbox = new ArrayList<>();
    private Ready.SoftState lastSoftState;
    private HardState lastHardState;

    /** The hand-off of a node whose state is {@code soft} and {@code hard} (taken as already known to the runtime). */
    ReadyHandOff(RaftLog log, ReadIndexQueue reads, long maxApplyBytes, Ready.SoftState soft, HardState hard) {
        this.log = log;
        this.reads = reads;
        this.maxApplyBytes = maxApplyBytes;
        this.lastSoftState = soft;
        this.lastHardState = hard;
    }

    /** Queues a message for the next Ready. */
    void send(Message m) {
        outbox.add(m);
    }

    /** Whether a Ready for the node's current {@code soft} and {@code hard} state would hold anything. */
    boolean hasReady(Ready.SoftState soft, HardState hard) {
        return !soft.equals(lastSoftState)
                || !hard.sameAs(lastHardState)
                || log.hasEntriesToPersist()
                || log.snapshotToInstall() != null
                || !outbox.isEmpty()
                || log.hasEntriesToApply()
                || reads.hasReadStates();
    }

    /**
     * Everything not handed out yet, as one Ready: the soft and hard state only if they changed, the snapshot to
     * install and the entries to persist (marked handed out in the log), the queued messages, the entries to apply and
     * the read states.
     */
    Ready take(Ready.SoftState soft, HardState hard) {
        if (soft.equals(lastSoftState)) {
            soft = null;
        } else {
            lastSoftState = soft;
        }
        if (hard.sameAs(lastHardState)) {
            hard = null;
        }
        SnapshotMeta install = log.snapshotToInstall();
        if (install != null) {
            log.markSnapshotHandedOut();
        }
        List<Entry> entries = log.entriesToPersist();
        if (!entries.isEmpty()) {
            log.markHandedOut(entries.get(entries.size() - 1).index());
        }
        List<Message> messages = outbox;
        outbox = new ArrayList<>();
        return new Ready(soft, hard, install, entries, messages, log.entriesToApply(maxApplyBytes), reads.takeReadStates());
    }

    /** The runtime has carried out {@code rd}: its hard state, if any, is now persisted. */
    void advanced(Ready rd) {
        if (rd.hardState() != null) {
            lastHardState = rd.hardState();
        }
    }
}
