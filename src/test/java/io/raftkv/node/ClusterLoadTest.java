package io.raftkv.node;

import static org.junit.jupiter.api.Assertions.assertNull;

import io.raftkv.statemachine.KvCommand;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * What the node runtime's tests of true answers under a {@link WriteLoad} (RaftNodeTest, StorageFaultTest) share: a
 * data directory, a three-member cluster in it, the contract's three kinds of answer, and the barrier that shows
 * everything committed before it is applied everywhere.
 */
abstract class ClusterLoadTest {

    @TempDir
    Path dir;

    enum Outcome { OK, NO_EFFECT, UNKNOWN }

    static Outcome classify(Throwable err) {
        if (err == null) {
            return Outcome.OK;
        }
        Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        if (e instanceof NotProposedException || e instanceof NotLeaderException || e instanceof ProposalLostException
                || e instanceof OverloadedException) {
            return Outcome.NO_EFFECT;
        }
        if (e instanceof OutcomeUnknownException || e instanceof TimeoutException) {
            return Outcome.UNKNOWN;
        }
        throw new AssertionError("an answer outside the contract", e);
    }

    static byte[] put(String key) {
        return KvCommand.put(key, key.getBytes(StandardCharsets.UTF_8)).encode();
    }

    /** Three members (not started yet) in {@link #dir}, each with room for 4096 pending writes. */
    InProcessCluster threeNodes() {
        return new InProcessCluster(dir, 3, 4096);
    }

    /**
     * A write of {@code leader}'s own, {@code key}, awaited until every running member applied it: then so is
     * everything committed before it.
     */
    static void awaitBarrier(InProcessCluster c, String leader, String key) throws Exception {
        assertNull(c.nodes.get(leader).propose(put(key)).handle((r, e) -> e).get());
        for (String id : c.nodes.keySet()) {
            InProcessCluster.await("the " + key + " applied on " + id, () -> c.store(id).get(key).isPresent());
        }
    }
}
