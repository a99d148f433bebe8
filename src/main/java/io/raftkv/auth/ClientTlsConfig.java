package io.raftkv.auth;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * What raftkv adds to Quarkus's HTTPS ({@code quarkus.http.ssl.*}, which turns it on): {@code raftkv.client-tls.*}.
 */
@ConfigMapping(prefix = "raftkv.client-tls")
public interface ClientTlsConfig {

    /**
     * With HTTPS on, whether the client API (/v1/...) is still served on the plain HTTP port. The plain port stays
     * open for peer RPC (/raft/...) and probes until peers have a listener of their own; by default it refuses /v1/
     * with a 403 naming the HTTPS port.
     */
    @WithDefault("false")
    boolean allowPlainHttp();
}
