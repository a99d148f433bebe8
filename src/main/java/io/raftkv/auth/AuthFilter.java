package io.raftkv.auth;

import io.quarkus.vertx.http.runtime.filters.Filters;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The edge of the client API: before any route (REST resources, /q/metrics), refuses the client API over plain HTTP
 * while HTTPS is on, authenticates the request (a bearer token, else a client certificate) and checks the access the
 * {@link AccessRules} ask for. No credentials: 401 with {@code WWW-Authenticate: Bearer}; a missing permission: 403.
 * Both with a problem JSON body. The principal is put on the routing context under {@link #PRINCIPAL}.
 */
@ApplicationScoped
public class AuthFilter {

    public static final String PRINCIPAL = "raftkv.principal";
    /** Runs before Quarkus's own route handlers and filters of lower priority. */
    static final int PRIORITY = 1_000;

    @Inject
    Authenticator authenticator;

    @Inject
    AuthConfig config;

    @Inject
    ClientTls tls;

    @Inject
    ClientTlsConfig tlsConfig;

    void register(@Observes Filters filters) {
        filters.register(this::handle, PRIORITY);
    }

    void handle(RoutingContext rc) {
        HttpServerRequest req = rc.request();
        String path = rc.normalizedPath();
        if (tls.enabled() && !req.isSSL() && path.startsWith("/v1/") && !tlsConfig.allowPlainHttp()) {
            problem(rc, 403, "Forbidden", "this node serves the client API over HTTPS only, on port "
                    + tls.httpsPort(), null);
            return;
        }
        if (!authenticator.enabled() || AccessRules.open(path)
                || config.metricsOpen() && path.startsWith("/q/metrics")) {
            rc.next();
            return;
        }
        Access access;
        try {
            String key = path.startsWith("/v1/kv/") ? decode(path.substring("/v1/kv/".length())) : null;
            access = AccessRules.required(new AccessRules.Request(req.method().name(), path, key, req::getParam));
        } catch (IllegalArgumentException e) {
            problem(rc, 400, "Bad Request", "malformed percent-encoding in the path", null);
            return;
        }
        Principal p;
        String authorization = req.getHeader("Authorization");
        if (authorization != null) {
            if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                unauthorized(rc, "invalid_request", "only the Bearer scheme is accepted (Authorization: Bearer <token>)");
                return;
            }
            p = authenticator.credentials().byToken(authorization.substring(7).trim());
            if (p == null) {
                unauthorized(rc, "invalid_token", "the bearer token is not valid");
                return;
            }
        } else {
            List<String> names = tls.clientCertificates() ? certificateNames(req) : null;
            if (names == null) {
                unauthorized(rc, null, "credentials are required: a bearer token (Authorization: Bearer <token>)"
                        + (tls.clientCertificates() ? " or a client certificate" : ""));
                return;
            }
            p = authenticator.credentials().byCertificateNames(names);
            if (p == null) {
                unauthorized(rc, null, "the client certificate (" + names + ") names no principal of the tokens file");
                return;
            }
        }
        if (!p.may(access)) {
            problem(rc, 403, "Forbidden", "principal '" + p.name() + "' lacks " + access.describe() + " for "
                    + req.method().name() + " " + path, new JsonObject().put("principal", p.name()));
            return;
        }
        rc.put(PRINCIPAL, p);
        rc.next();
    }

    /** The client certificate's subject CN and SANs (DNS, e-mail, URI), or null if it presented none. */
    static List<String> certificateNames(HttpServerRequest req) {
        if (!req.isSSL()) {
            return null;
        }
        SSLSession session = req.sslSession();
        if (session == null) {
            return null;
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate cert)) {
            return null;
        }
        return CertificateNames.of(cert);
    }

    static String decode(String raw) {
        return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    private static void unauthorized(RoutingContext rc, String error, String detail) {
        rc.response().putHeader("WWW-Authenticate", error == null ? "Bearer realm=\"raftkv\""
                : "Bearer realm=\"raftkv\", error=\"" + error + "\"");
        problem(rc, 401, "Unauthorized", detail, null);
    }

    private static void problem(RoutingContext rc, int status, String title, String detail, JsonObject extra) {
        JsonObject body = new JsonObject().put("type", "about:blank").put("title", title).put("status", status)
                .put("detail", detail);
        if (extra != null) {
            body.mergeIn(extra);
        }
        rc.response().setStatusCode(status).putHeader("Content-Type", "application/problem+json").end(body.encode());
    }
}
