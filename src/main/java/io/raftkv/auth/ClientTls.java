package io.raftkv.auth;

import io.quarkus.vertx.http.HttpServerStart;
import io.quarkus.vertx.http.HttpsServerStart;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Whether this node serves the client API over HTTPS (Quarkus's {@code quarkus.http.ssl.*} or TLS registry settings
 * turn it on), on which port, and the client URL of another member for redirects: with HTTPS on, the member's URL
 * with scheme https and its port moved by the same offset as this node's (HTTPS port minus HTTP port). Every member
 * of a cluster is expected to use the same offset: the chart gives every pod 8080 and 8443.
 */
@ApplicationScoped
public class ClientTls {

    private static final Logger LOG = Logger.getLogger(ClientTls.class);

    private volatile int httpPort = -1;
    private volatile int httpsPort = -1;

    void http(@Observes HttpServerStart start) {
        httpPort = start.options().getPort();
    }

    void https(@Observes HttpsServerStart start) {
        httpsPort = start.options().getPort();
        LOG.infof("client API over HTTPS on port %d", httpsPort);
    }

    /** Sets the ports (tests). */
    void ports(int http, int https) {
        httpPort = http;
        httpsPort = https;
    }

    public boolean enabled() {
        return httpsPort > 0;
    }

    public int httpsPort() {
        return httpsPort;
    }

    /** The URL a client should use for the member whose (peer) URL is {@code memberUrl}. */
    public URI clientUrl(URI memberUrl) {
        return clientUrl(memberUrl, httpPort, httpsPort);
    }

    /** The rule itself: unchanged without HTTPS (or when already https), else https on the shifted port. */
    public static URI clientUrl(URI memberUrl, int httpPort, int httpsPort) {
        if (httpsPort <= 0 || "https".equals(memberUrl.getScheme())) {
            return memberUrl;
        }
        int port = memberUrl.getPort() < 0 ? 80 : memberUrl.getPort();
        int shifted = httpPort > 0 ? port + (httpsPort - httpPort) : httpsPort;
        try {
            return new URI("https", memberUrl.getUserInfo(), memberUrl.getHost(), shifted, memberUrl.getPath(), null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
