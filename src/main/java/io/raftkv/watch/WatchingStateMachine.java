package io.raftkv.watch;

import io.raftkv.raft.Entry;
import io.raftkv.statemachine.ApplyResult;
import io.raftkv.statemachine.StateMachine;

import java.util.List;

/**
 * A state machine that tells a {@link WatchHub} what it applied: what the node runtime is given instead of the
 * state machine itself, so that watch events come from exactly the entries applied, with their outcomes, in order.
 * A jump of the state machine's applied index between two batches (a snapshot installed from the leader) restarts
 * the hub's history there.
 */
public final class WatchingStateMachine implements StateMachine {

    private final StateMachine delegate;
    private final WatchHub hub;

    public WatchingStateMachine(StateMachine delegate, WatchHub hub) {
        this.delegate = delegate;
        this.hub = hub;
        hub.opened(delegate.lastApplied());
    }

    @Override
    public long lastApplied() {
        return delegate.lastApplied();
    }

    @Override
    public List<ApplyResult> apply(List<Entry> committed) {
        long before = delegate.lastApplied();
        if (before > hub.lastIndex()) {
            hub.reset(before);
        }
        List<ApplyResult> results = delegate.apply(committed);
        hub.applied(committed, results);
        return results;
    }

    @Override
    public void flush() {
        delegate.flush();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
