package io.raftkv.raft.sim;

import java.nio.charset.StandardCharsets;

/**
 * The simulated state machine's command encoding: {@code "put <key> <value>"} in UTF-8. Keys and values contain no
 * spaces. The simulation makes every written value unique (it embeds the operation id), so the linearizability
 * checker can tell writes apart.
 */
public final class KvCommand {

    public record Put(String key, String value) {
    }

    private KvCommand() {
    }

    public static byte[] put(String key, String value) {
        if (key.indexOf(' ') >= 0 || value.indexOf(' ') >= 0) {
            throw new IllegalArgumentException("keys and values must not contain spaces");
        }
        return ("put " + key + " " + value).getBytes(StandardCharsets.UTF_8);
    }

    public static Put decode(byte[] data) {
        String s = new String(data, StandardCharsets.UTF_8);
        String[] parts = s.split(" ");
        if (parts.length != 3 || !parts[0].equals("put")) {
            throw new IllegalArgumentException("not a put command: '" + s + "'");
        }
        return new Put(parts[1], parts[2]);
    }
}
