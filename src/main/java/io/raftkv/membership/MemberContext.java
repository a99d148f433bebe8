package io.raftkv.membership;

import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * What the runtime puts in the context of an ADD_LEARNER change (the core carries it in the log without looking): the
 * new member's URL, and whether it stays a learner until an operator promotes it. Encoded as UTF-8 text: the URL, then
 * {@code "\nlearner"} when it stays a learner.
 */
public record MemberContext(URI url, boolean stayLearner) {

    private static final String STAY = "\nlearner";

    public byte[] encode() {
        return (url + (stayLearner ? STAY : "")).getBytes(StandardCharsets.UTF_8);
    }

    /** The context of {@code bytes}; null if empty or not a URL (a change proposed without one). */
    public static MemberContext decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return null;
        }
        String s = new String(bytes, StandardCharsets.UTF_8);
        boolean stay = s.endsWith(STAY);
        if (stay) {
            s = s.substring(0, s.length() - STAY.length());
        }
        try {
            URI u = URI.create(s);
            return u.getHost() == null ? null : new MemberContext(u, stay);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
