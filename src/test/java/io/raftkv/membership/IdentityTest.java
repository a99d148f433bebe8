package io.raftkv.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;

class IdentityTest {

    @TempDir
    Path dir;

    @Test
    void everyBootstrapMemberDerivesTheSameClusterIdAndEachDirectoryItsOwnIncarnation() {
        Identity a = Identity.open(dir.resolve("a"), List.of("n1", "n2", "n3"), "raftkv");
        Identity b = Identity.open(dir.resolve("b"), List.of("n3", "n1", "n2"), "raftkv");
        assertEquals(a.clusterId(), b.clusterId());
        assertNotEquals(a.incarnation(), b.incarnation());
        assertNotEquals(a.clusterId(), Identity.open(dir.resolve("c"), List.of("n1", "n2", "n3"), "other").clusterId());
        // reopened: the same
        Identity again = Identity.open(dir.resolve("a"), List.of("whatever"), "ignored");
        assertEquals(a.clusterId(), again.clusterId());
        assertEquals(a.incarnation(), again.incarnation());
    }

    @Test
    void theBootstrapVotersAreThoseOfTheFirstStartWhateverLaterStartsSay() {
        Identity first = Identity.open(dir.resolve("b"), List.of("n3", "n1", "n2"), "raftkv");
        assertEquals(List.of("n1", "n2", "n3"), first.bootstrapVoters());
        // a chart scaled to 5: raftkv.peers names five, but the cluster bootstrapped with three
        assertEquals(List.of("n1", "n2", "n3"),
                Identity.open(dir.resolve("b"), List.of("n1", "n2", "n3", "n4", "n5"), "raftkv").bootstrapVoters());
        assertEquals(List.of(), Identity.open(dir.resolve("joined"), List.of(), "raftkv").bootstrapVoters());
        assertEquals(List.of(), Identity.open(dir.resolve("joined"), List.of("n1", "n2"), "raftkv").bootstrapVoters(),
                "a node that joined never bootstraps, even if started later with initial-cluster-state=new");
    }

    @Test
    void aPeerBackWithAnotherDataDirectoryIsRefusedUntilAChangeNamesIt() {
        Identity me = Identity.open(dir.resolve("me"), List.of("n1", "n2", "n3"), "raftkv");
        String cluster = me.clusterId();
        assertNull(me.admit("n2", cluster, "disk-1"), "first contact: remembered");
        assertNull(me.admit("n2", cluster, "disk-1"));
        assertEquals(Identity.Refusal.INCARNATION, me.admit("n2", cluster, "disk-2"), "n2 lost its disk");
        assertEquals("disk-2", me.presentedIncarnation("n2"));
        assertEquals(Identity.Refusal.CLUSTER, me.admit("n3", "another", "x"));
        assertEquals(Identity.Refusal.CLUSTER, me.admit("n3", null, "x"));
        assertEquals(Identity.Refusal.CLUSTER, me.admit("n3", cluster, null));
        // survives a restart
        Identity reopened = Identity.open(dir.resolve("me"), List.of(), "raftkv");
        assertEquals(Identity.Refusal.INCARNATION, reopened.admit("n2", cluster, "disk-2"));
        reopened.expect("n2", "disk-2"); // the replacement's ADD_LEARNER entry
        assertNull(reopened.admit("n2", cluster, "disk-2"));
        assertEquals(Identity.Refusal.INCARNATION, reopened.admit("n2", cluster, "disk-1"), "the old one is refused now");
        reopened.forget("n2");
        assertNull(reopened.admit("n2", cluster, "disk-3"), "after a removal the id is new again");
    }

    @Test
    void aJoiningNodeAdoptsTheClusterOfTheFirstPeerThatTalksToIt() {
        Identity joining = Identity.open(dir.resolve("j"), List.of(), "raftkv");
        assertNull(joining.clusterId());
        assertNull(joining.admit("n1", "c-123", "disk-1"));
        assertEquals("c-123", joining.clusterId());
        assertEquals(Identity.Refusal.CLUSTER, joining.admit("n2", "c-456", "disk-9"));
        assertEquals("c-123", Identity.open(dir.resolve("j"), List.of(), "raftkv").clusterId());
    }

    @Test
    void memberContextsRoundTrip() {
        MemberContext c = new MemberContext(URI.create("http://n4:8080"), true, "disk-4");
        assertEquals(c, MemberContext.decode(c.encode()));
        MemberContext plain = new MemberContext(URI.create("http://n4:8080"), false);
        assertEquals(plain, MemberContext.decode(plain.encode()));
        assertNull(MemberContext.decode(new byte[0]));
        assertNull(MemberContext.decode("not a url".getBytes()));
    }
}
