package io.raftkv.server;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/** Parses the {@code raftkv.peers} list ({@code id=url,id=url,...}) with errors that say what is wrong. */
public final class Members {

    private Members() {
    }

    public static Map<String, URI> parse(String peers, String selfId, String advertiseUrl) {
        Map<String, URI> members = new LinkedHashMap<>();
        if (peers == null || peers.isBlank()) {
            throw new IllegalArgumentException("raftkv.peers is empty: list every member as id=url, comma separated");
        }
        for (String item : peers.split(",")) {
            String s = item.trim();
            if (s.isEmpty()) {
                continue;
            }
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) {
                throw new IllegalArgumentException("raftkv.peers entry '" + s + "' is not id=url");
            }
            String id = s.substring(0, eq).trim();
            if (!id.matches("[A-Za-z0-9._-]{1,64}")) {
                throw new IllegalArgumentException("raftkv.peers: bad node id '" + id + "' (letters, digits, . _ -, at most 64)");
            }
            URI url = url(s.substring(eq + 1).trim(), "raftkv.peers entry for " + id);
            if (members.put(id, url) != null) {
                throw new IllegalArgumentException("raftkv.peers lists " + id + " twice");
            }
        }
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
        Map<String, URI> out = new LinkedHashMap<>();
        if (peerUrls == null || peerUrls.isBlank()) {
            return out;
        }
        for (String item : peerUrls.split(",")) {
            String s = item.trim();
            if (s.isEmpty()) {
                continue;
            }
            int eq = s.indexOf('=');
            if (eq <= 0 || eq == s.length() - 1) {
                throw new IllegalArgumentException("raftkv.peer-urls entry '" + s + "' is not id=host:port");
            }
            String id = s.substring(0, eq).trim();
            URI u = io.raftkv.membership.PeerAddresses.parse(s.substring(eq + 1), "raftkv.peer-urls entry for " + id);
            if (out.put(id, u) != null) {
                throw new IllegalArgumentException("raftkv.peer-urls lists " + id + " twice");
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
