package io.raftkv.membership;

import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * What the runtime puts in the context of an ADD_LEARNER change (the core carries it in the log without looking): the
 * new member's URL, whether it stays a learner until an operator promotes it, and, for a replacement, the incarnation
 * (data directory) that is the member from now on. Encoded as UTF-8 lines: the URL, then {@code learner} when it stays
 * a learner, then {@code incarnation=<id>} when one is named.
 */
public record MemberContext(URI url, boolean stayLearner, String incarnation) {

    public MemberContext(URI url, boolean stayLearner) {
        this(url, stayLearner, null);
    }

    public byte[] encode() {
        return (url + (stayLearner ? "\nlearner" : "") + (incarnation == null ? "" : "\nincarnation=" + incarnation))
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The context of {@code bytes}; null if empty or not a URL (a change proposed without one). */
    public static MemberContext decode(byte[] bytes) {
        if (bytes == null || bytes.length == 0) {
            return null;
        }
        String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
        boolean stay = false;
        String incarnation = null;
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].equals("learner")) {
                stay = true;
            } else if (lines[i].startsWith("incarnation=")) {
                incarnation = lines[i].substring("incarnation=".length());
            }
        }
        try {
            URI u = URI.create(lines[0]);
            return u.getHost() == null ? null : new MemberContext(u, stay, incarnation);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
