package io.raftkv.membership;

import io.raftkv.raft.ConfChange;
import io.raftkv.raft.ConfigEntry;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.raft.WritableLogStorage;
import io.raftkv.raft.confchange.Changer;
import io.raftkv.raft.confchange.ConfigurationLog;
import io.raftkv.storage.FileSync;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Disaster recovery for a cluster that has lost its quorum for good ({@code raftkv.force-new-cluster=true}, etcd's
 * name): the surviving member writes, into its own log and before Raft starts, a CONFIG entry that makes it the only
 * voter. It then elects itself and commits everything its log holds, the uncommitted tail included: that is the
 * price, and why this is an operator's decision. The other members are then added back as new members, with empty
 * data directories.
 * <p>
 * The forced entry goes after the last entry of the log, in the node's current term (no other member ever holds an
 * entry at that index in the new cluster: they all join it empty). The node's identity gets a new cluster id derived
 * from the old one, so members that come back with their old data are refused instead of mixing two histories.
 * <p>
 * The flag acts once per data directory: the node then writes {@code <dataDir>/forced-new-cluster}, and while that
 * file exists a flag left set (an environment variable in a pod spec) is ignored with a warning. To force again after
 * a later disaster, delete that file.
 */
public final class ForceNewCluster {

    public static final String MARKER = "forced-new-cluster";

    private ForceNewCluster() {
    }

    /** What happened, for the log and the event log. */
    public record Outcome(boolean forced, String description, long index, Configuration before) {
    }

    /**
     * Makes {@code self} the only voter of the configuration in {@code log}, if it is not already and the data directory
     * did not do so before. {@code snapshot} is the newest snapshot (with its configuration), {@code bootstrap} the
     * configuration a log without one starts from.
     */
    public static Outcome apply(Path dataDir, WritableLogStorage log, SnapshotMeta snapshot, Configuration bootstrap,
                                String self, Identity identity) {
        Path marker = dataDir.resolve(MARKER);
        if (Files.exists(marker)) {
            return new Outcome(false, "raftkv.force-new-cluster is set but ignored: this data directory already forced a"
                    + " new cluster (" + marker.getFileName() + "); unset the flag, or delete that file to force again", 0, null);
        }
        HardState hs = log.hardState();
        if (hs.term() == 0 && log.lastIndex() == 0 && snapshot.isNone()) {
            throw new IllegalStateException("raftkv.force-new-cluster=true on an empty data directory: there is nothing"
                    + " to recover; start it on the data directory of a surviving member");
        }
        Configuration current = ConfigurationLog.recover(log, snapshot, bootstrap).current();
        Configuration forced = Changer.apply(current, ConfChange.forceNewCluster(self));
        long index = log.lastIndex() + 1;
        long term = Math.max(hs.term(), log.lastIndex() == 0 ? 0 : log.term(log.lastIndex()));
        String description;
        if (current.equals(forced)) {
            description = "raftkv.force-new-cluster: " + self + " already is the only voter (" + current + "); nothing written";
            index = 0;
        } else {
            Entry entry = new Entry(term, index, EntryType.CONFIG,
                    new ConfigEntry(ConfChange.forceNewCluster(self), forced).encode());
            log.save(null, List.of(entry));
            description = "FORCED A NEW CLUSTER: configuration " + current + " replaced by " + forced + " at index " + index
                    + " (term " + term + "); entries up to " + (index - 1) + " commit once " + self + " leads; add the other"
                    + " members back with empty data directories";
        }
        identity.forceNewCluster(index);
        FileSync.writeAtomically(marker, "index=" + index + "\nterm=" + term + "\nfrom=" + current + "\n");
        return new Outcome(index > 0, description, index, current);
    }
}
