package io.raftkv.server;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;

/** Parses the {@code raftkv.peers} list ({@code id=url,id=url,...}) with errors that say what is wrong. */
public final class Members {

    private Members() {
    }

    public static Map<String, URI> parse(String peers, String selfId, String advertiseUrl) {
        if (peers == null || peers.isBlank()) {
            throw new IllegalArgumentException("raftkv.peers is empty: list every member as id=url, comma separated");
        }
        Map<String, URI> members = idList(peers, "raftkv.peers", "id=url", (id, value) -> {
            if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("raftkv.peers: bad node id '" + id + "' (letters, digits, . _ -, at most 64)");
            }
            return url(value.trim(), "raftkv.peers entry for " + id);
        });
        if (advertiseUrl != null && !advertiseUrl.isBlank()) {
            members.put(selfId, url(advertiseUrl.trim(), "raftkv.advertise-url"));
        }
        if (!members.containsKey(selfId)) {
            throw new IllegalArgumentException("this node's id '" + selfId + "' is not in raftkv.peers " + members.keySet());
        }
        return members;
    }

    /**
     * Parses {@code raftkv.peer-urls} ({@code id=host:port,...}, each {@code host:port} may be written
     * {@code raftkv://host:port}): where members' peer listeners are when not at the derived address.
     */
    public static Map<String, URI> parsePeerUrls(String peerUrls) {
        if (peerUrls == null || peerUrls.isBlank()) {
            return new LinkedHashMap<>();
        }
        return idList(peerUrls, "raftkv.peer-urls", "id=host:port",
                (id, value) -> io.raftkv.membership.PeerAddresses.parse(value, "raftkv.peer-urls entry for " + id));
    }

    /**
     * The {@code id=value,id=value,...} list of {@code property} (blank entries skipped, ids trimmed, each id once), in
     * its order; {@code value} makes an entry's URI of its id and the text after its {@code =} (as written).
     */
    private static Map<String, URI> idList(String list, String property, String shape, BiFunction<String, String, URI> value) {
        Map<String, URI> out = new LinkedHashMap<>();
        for (String item : list.split(",")) {
            String s = item.trim();
            if (s.isEmpty()) {
                continue;
            }
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) {
                throw new IllegalArgumentException(property + " entry '" + s + "' is not " + shape);
            }
            String id = s.substring(0, eq).trim();
            if (out.put(id, value.apply(id, s.substring(eq + 1))) != null) {
                throw new IllegalArgumentException(property + " lists " + id + " twice");
            }
        }
        return out;
    }

    public static URI url(String s, String what) {
        try {
            URI u = URI.create(s.endsWith("/") ? s.substring(0, s.length() - 1) : s);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL");
            }
            return u;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": '" + s + "' is not a valid http URL", e);
        }
    }
}
