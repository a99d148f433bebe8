package io.raftkv.auth;

import io.quarkus.vertx.http.HttpServerStart;
import io.quarkus.vertx.http.HttpsServerStart;
import jakarta.enterprise.context.ApplicationScoped;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.event.ObservesAsync;
import jakarta.inject.Inject;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

/**
 * Whether this node serves the client API over HTTPS (Quarkus's {@code quarkus.http.ssl.*} or TLS registry settings
 * turn it on), on which port, and the client URL of another member for redirects: with HTTPS on, the member's URL
 * with scheme https and its port moved by the same offset as this node's (HTTPS port minus HTTP port). Every member
 * of a cluster is expected to use the same offset: the chart gives every pod 8080 and 8443.
 */
@ApplicationScoped
public class ClientTls {

    private static final Logger LOG = Logger.getLogger(ClientTls.class);

    @Inject
    TlsConfigurationRegistry registry;

    private volatile boolean known;
    private volatile boolean clientCa;
    private volatile int httpPort = -1;
    private volatile int httpsPort = -1;

    /**
     * Decided from the configuration on first use (the servers' start events are asynchronous: waiting for them
     * would serve the first requests as if HTTPS were off): HTTPS is on when the HTTP server's TLS configuration (the
     * TLS registry's default or {@code quarkus.http.tls-configuration-name}) has a key store, or the legacy
     * {@code quarkus.http.ssl.certificate.*} files are set.
     */
    private void decide() {
        if (known) {
            return;
        }
        synchronized (this) {
            if (known) {
                return;
            }
            Config c = ConfigProvider.getConfig();
            boolean test = LaunchMode.current() == LaunchMode.TEST;
            Optional<TlsConfiguration> named = c.getOptionalValue("quarkus.http.tls-configuration-name", String.class)
                    .flatMap(registry::get);
            Optional<TlsConfiguration> tls = named.or(registry::getDefault);
            boolean on = tls.map(t -> t.getKeyStore() != null).orElse(false)
                    || c.getOptionalValue("quarkus.http.ssl.certificate.files", String.class).isPresent()
                    || c.getOptionalValue("quarkus.http.ssl.certificate.key-store-file", String.class).isPresent();
            // Without a CA of its own the TLS layer would accept certificates of any CA the JDK trusts.
            clientCa = on && (tls.map(t -> t.getTrustStore() != null).orElse(false)
                    || c.getOptionalValue("quarkus.http.ssl.certificate.trust-store-file", String.class).isPresent()
                    || c.getOptionalValue("quarkus.http.ssl.certificate.trust-store-files", String.class).isPresent());
            if (httpPort < 0) {
                httpPort = c.getOptionalValue(test ? "quarkus.http.test-port" : "quarkus.http.port", Integer.class)
                        .orElse(test ? 8081 : 8080);
            }
            if (on && httpsPort < 0) {
                httpsPort = c.getOptionalValue(test ? "quarkus.http.test-ssl-port" : "quarkus.http.ssl-port", Integer.class)
                        .orElse(test ? 8444 : 8443);
            } else if (!on) {
                httpsPort = -1;
            }
            known = true;
        }
    }

    // The actual ports, once the servers are up (they differ from the configured ones only for port 0).
    void http(@ObservesAsync HttpServerStart start) {
        httpPort = start.options().getPort();
    }

    void https(@ObservesAsync HttpsServerStart start) {
        httpsPort = start.options().getPort();
        LOG.infof("client API over HTTPS on port %d", httpsPort);
    }

    /** Sets the ports (tests). */
    void ports(int http, int https, boolean withClientCa) {
        httpPort = http;
        httpsPort = https;
        clientCa = withClientCa;
        known = true;
    }

    public boolean enabled() {
        decide();
        return httpsPort > 0;
    }

    /** Whether client certificates authenticate: HTTPS is on and a client CA (trust store) is configured. */
    public boolean clientCertificates() {
        decide();
        return clientCa;
    }

    public int httpsPort() {
        decide();
        return httpsPort;
    }

    /** The URL a client should use for the member whose (peer) URL is {@code memberUrl}. */
    public URI clientUrl(URI memberUrl) {
        decide();
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
