package io.raftkv.membership;

import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * What the runtime puts in the context of an ADD_LEARNER change (the core carries it in the log without looking): the
 * new member's URL, whether it stays a learner until an operator promotes it, and, for a replacement, the incarnation
 * (data directory) that is the member from now on. Encoded as UTF-8 lines: the URL, then {@code learner} when it stays
 * a learner, then {@code incarnation=<id>} when one is named, then {@code peer=<peer url>} when the member's peer
 * listener is not at the derived address (see {@link PeerAddresses}). Readers skip lines they do not know, so entries
 * written before a line existed decode as before, and older nodes read newer entries.
 */
public record MemberContext(URI url, boolean stayLearner, String incarnation, URI peerUrl) {

    public MemberContext(URI url, boolean stayLearner) {
        this(url, stayLearner, null, null);
    }

    public MemberContext(URI url, boolean stayLearner, String incarnation) {
        this(url, stayLearner, incarnation, null);
    }

    public byte[] encode() {
        return (url + (stayLearner ? "\nlearner" : "") + (incarnation == null ? "" : "\nincarnation=" + incarnation)
                + (peerUrl == null ? "" : "\npeer=" + peerUrl))
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
        URI peer = null;
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].equals("learner")) {
                stay = true;
            } else if (lines[i].startsWith("incarnation=")) {
                incarnation = lines[i].substring("incarnation=".length());
            } else if (lines[i].startsWith("peer=")) {
                try {
                    peer = PeerAddresses.parse(lines[i].substring("peer=".length()), "peer address");
                } catch (IllegalArgumentException e) {
                    peer = null; // a damaged address: the derived one is tried
                }
            }
        }
        try {
            URI u = URI.create(lines[0]);
            return u.getHost() == null ? null : new MemberContext(u, stay, incarnation, peer);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
