package io.raftkv.raft.sim;

import java.nio.charset.StandardCharsets;

/**
 * The simulation's commands, in the real state machine's encoding ({@link io.raftkv.statemachine.KvCommand}). Values
 * are strings (UTF-8). The simulation makes every written value unique (it embeds the operation id), so the
 * linearizability checker can tell writes apart.
 */
public final class KvCommand {

    private KvCommand() {
    }

    /** An unconditional put without a session (the scenario tests' and the liveness phase's writes). */
    public static byte[] put(String key, String value) {
        return io.raftkv.statemachine.KvCommand.put(key, value.getBytes(StandardCharsets.UTF_8)).encode();
    }

    public static io.raftkv.statemachine.KvCommand decode(byte[] data) {
        return io.raftkv.statemachine.KvCommand.decode(data);
    }
}
