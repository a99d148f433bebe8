package io.raftkv.membership;

import java.net.URI;

/**
 * Peer listener addresses, written {@code raftkv://host:port} (or just {@code host:port}). A member with none given
 * has its peer listener on its client URL's host at the client port + {@value #PORT_OFFSET} (client 8001, peer 9001;
 * client 8080, peer 9080).
 */
public final class PeerAddresses {

    public static final int PORT_OFFSET = 1000;
    public static final String SCHEME = "raftkv";

    private PeerAddresses() {
    }

    /** The peer address of a member reached by clients at {@code clientUrl}, when none is given. */
    public static URI derive(URI clientUrl) {
        int port = clientUrl.getPort() != -1 ? clientUrl.getPort() : "https".equals(clientUrl.getScheme()) ? 443 : 80;
        return URI.create(SCHEME + "://" + hostPart(clientUrl.getHost()) + ":" + (port + PORT_OFFSET));
    }

    private static String hostPart(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** {@code raftkv://host:port} or {@code host:port}, normalized to the former; {@code what} names it in errors. */
    public static URI parse(String s, String what) {
        String t = s == null ? "" : s.trim();
        if (t.endsWith("/")) {
            t = t.substring(0, t.length() - 1);
        }
        if (!t.contains("://")) {
            t = SCHEME + "://" + t;
        }
        URI u;
        try {
            u = URI.create(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + ": '" + s + "' is not host:port or raftkv://host:port", e);
        }
        if (!SCHEME.equals(u.getScheme()) || u.getHost() == null || u.getPort() < 1 || u.getPort() > 65535
                || u.getRawPath() != null && !u.getRawPath().isEmpty()) {
            throw new IllegalArgumentException(what + ": '" + s + "' is not host:port or raftkv://host:port");
        }
        return u;
    }
}
