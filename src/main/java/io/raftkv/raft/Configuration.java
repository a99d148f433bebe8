package io.raftkv.raft;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A cluster configuration (Raft dissertation chapter 4): the voters, whose majorities elect leaders and commit
 * entries, and the learners, which receive the log but neither vote nor count toward any quorum. Both lists are
 * sorted and immutable, so two equal configurations are equal records and encode to the same bytes.
 * <p>
 * A configuration changes one server at a time ({@link io.raftkv.raft.confchange.Changer}): then any majority of the
 * old voters and any majority of the new voters share a server, which is what keeps two leaders from being elected
 * in one term across a change.
 * <p>
 * Binary encoding ({@link #encode()}), big-endian: {@code u8 version (1)}, {@code u32 voter count}, each voter as
 * {@code u16 length + UTF-8 bytes}, {@code u32 learner count}, each learner likewise.
 */
public record Configuration(List<String> voters, List<String> learners) {

    /** No members: the configuration of a node that joins an existing cluster and has not yet heard from it. */
    public static final Configuration EMPTY = new Configuration(List.of(), List.of());

    static final int VERSION = 1;

    public Configuration {
        voters = sortedDistinct(voters, "voter");
        learners = sortedDistinct(learners, "learner");
        for (String l : learners) {
            if (voters.contains(l)) {
                throw new IllegalArgumentException(l + " is both a voter and a learner");
            }
        }
    }

    /** A configuration of voters only (a bootstrap configuration). */
    public static Configuration ofVoters(Collection<String> voters) {
        return new Configuration(List.copyOf(voters), List.of());
    }

    private static List<String> sortedDistinct(Collection<String> ids, String what) {
        List<String> out = new ArrayList<>(ids);
        out.sort(null);
        Set<String> seen = new HashSet<>();
        for (String id : out) {
            if (id == null || id.isBlank()) {
                throw new IllegalArgumentException("blank " + what + " id");
            }
            if (!seen.add(id)) {
                throw new IllegalArgumentException("duplicate " + what + " id " + id);
            }
        }
        return List.copyOf(out);
    }

    public boolean isVoter(String id) {
        return voters.contains(id);
    }

    public boolean isLearner(String id) {
        return learners.contains(id);
    }

    public boolean isMember(String id) {
        return isVoter(id) || isLearner(id);
    }

    /** Voters, then learners: everyone the leader replicates to. */
    public List<String> members() {
        List<String> all = new ArrayList<>(voters);
        all.addAll(learners);
        return all;
    }

    public boolean isEmpty() {
        return voters.isEmpty() && learners.isEmpty();
    }

    /** Servers in one voter set but not the other (0 for the same voters, 1 for a single-server change). */
    public int voterDistance(Configuration other) {
        Set<String> diff = new HashSet<>(voters);
        diff.addAll(other.voters);
        Set<String> both = new HashSet<>(voters);
        both.retainAll(other.voters);
        diff.removeAll(both);
        return diff.size();
    }

    public byte[] encode() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            writeIds(out, voters);
            writeIds(out, learners);
        } catch (IOException e) {
            throw new IllegalStateException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    public static Configuration decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
            Configuration c = read(in);
            if (in.available() > 0) {
                throw new IllegalArgumentException(in.available() + " bytes after the configuration");
            }
            return c;
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed configuration: " + e, e);
        }
    }

    /** Reads one encoded configuration from {@code in} (used inside the CONFIG entry encoding too). */
    static Configuration read(DataInputStream in) throws IOException {
        int version = in.readUnsignedByte();
        if (version != VERSION) {
            throw new IllegalArgumentException("unsupported configuration encoding version " + version);
        }
        List<String> v = readIds(in);
        List<String> l = readIds(in);
        return new Configuration(v, l);
    }

    static void writeIds(DataOutputStream out, List<String> ids) throws IOException {
        out.writeInt(ids.size());
        for (String id : ids) {
            writeString(out, id);
        }
    }

    static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > 0xFFFF) {
            throw new IllegalArgumentException("id too long: " + b.length + " bytes");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    static String readString(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readUnsignedShort()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static List<String> readIds(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > in.available() / 2) {
            throw new IllegalArgumentException("impossible id count " + n);
        }
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(readString(in));
        }
        return ids;
    }

    @Override
    public String toString() {
        return "voters=" + voters + (learners.isEmpty() ? "" : " learners=" + learners);
    }
}
