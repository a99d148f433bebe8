package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The CLI's HTTP side (plain JDK HttpClient): tries the endpoints in turn, follows a follower's 307 to the leader
 * (resending the body), and retries where that is safe: writes carry a session (Raftkv-Client-Id, Raftkv-Request-Seq)
 * so a retry after a 503, a 504 or a lost connection is applied at most once; other requests are retried only when
 * they certainly had no effect (the connection was refused, or 503).
 */
public final class CtlClient {

    static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REDIRECTS = 5;

    /** An answer: status, headers we use, body bytes, and the URL that answered. */
    public record Answer(int status, byte[] body, HttpResponse<?> response, URI url) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        public JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new CtlException(Ctl.EXIT_FAILED, "the answer from " + url + " is not JSON: " + text());
            }
        }

        public String header(String name) {
            return response.headers().firstValue(name).orElse(null);
        }

        /** The problem document's detail (or the body) for an error message. */
        public String problem() {
            try {
                JsonNode j = JSON.readTree(body);
                if (j != null && j.has("detail")) {
                    return status + " " + j.path("title").asText() + ": " + j.get("detail").asText();
                }
            } catch (IOException e) {
                // not JSON
            }
            return status + (body.length == 0 ? "" : ": " + text());
        }
    }

    private final List<URI> endpoints;
    private final String token;
    private final Duration timeout;
    private final HttpClient http;
    private String clientId = newClientId();
    private long sequence;
    /**
     * Whether a write of this session is known to be applied (answered 2xx or 409): the state machine then knows the
     * session and takes any higher sequence number. Until then only sequence 1 starts it, so a client whose first
     * write failed takes a new id for the next one (reusing 1 could get an applied first write's cached result).
     */
    private boolean sessionKnown;
    private int preferred;

    public CtlClient(List<URI> endpoints, String token, Path cacert, Duration timeout) {
        if (endpoints.isEmpty()) {
            throw new CtlException(Ctl.EXIT_USAGE, "no endpoints: give --endpoints URL,URL,... or set RAFTKV_ENDPOINTS");
        }
        this.endpoints = endpoints;
        this.token = token;
        this.timeout = timeout;
        this.http = httpClient(Duration.ofMillis(Math.min(timeout.toMillis(), 2000)), cacert);
    }

    public List<URI> endpoints() {
        return endpoints;
    }

    /**
     * The HTTP client of raftkv's own calls to its members (this client, the scale-down command, a joining node, a
     * follower forwarding a write): it never follows redirects itself (each caller follows a 307 to the leader as it
     * must, resending the body and the credentials), connects within {@code connectTimeout}, and trusts only the CA
     * in {@code ssl} ({@link #trusting}), or the JDK's when it is null. Credentials go on each request
     * ({@link #bearer}).
     */
    public static HttpClient httpClient(Duration connectTimeout, SSLContext ssl) {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(connectTimeout).followRedirects(HttpClient.Redirect.NEVER);
        if (ssl != null) {
            b.sslContext(ssl);
        }
        return b.build();
    }

    /** As {@link #httpClient(Duration, SSLContext)}, trusting the PEM CA file {@code cacert} (null: the JDK's CAs). */
    public static HttpClient httpClient(Duration connectTimeout, Path cacert) {
        return httpClient(connectTimeout, cacert == null ? null : trusting(cacert));
    }

    /** Adds {@code Authorization: Bearer token} to {@code request} unless {@code token} is null or empty. */
    public static HttpRequest.Builder bearer(HttpRequest.Builder request, String token) {
        if (token != null && !token.isEmpty()) {
            request.header("Authorization", "Bearer " + token);
        }
        return request;
    }

    /** An SSLContext that trusts the PEM certificate(s) in {@code pem} (and nothing else). */
    public static SSLContext trusting(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                ks.setCertificateEntry("ca" + i++, c);
            }
            if (i == 0) {
                throw new CtlException(Ctl.EXIT_USAGE, "--cacert " + pem + " holds no certificate");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (CtlException e) {
            throw e;
        } catch (Exception e) {
            throw new CtlException(Ctl.EXIT_USAGE, "cannot read --cacert " + pem + ": " + e.getMessage());
        }
    }

    HttpRequest.Builder request(URI url) {
        return bearer(HttpRequest.newBuilder(url).timeout(timeout), token);
    }

    /** A read (GET): any endpoint, redirects followed, retried across endpoints on 503 and unreachable nodes. */
    public Answer get(String pathAndQuery) {
        return call("GET", pathAndQuery, null, null, Retry.READ);
    }

    /** A key write (PUT or DELETE) with a session: retried on 503, 504 and lost connections, applied at most once. */
    public Answer write(String method, String pathAndQuery, byte[] body) {
        return call(method, pathAndQuery, body, "application/octet-stream", Retry.SESSION);
    }

    /** Any other change (membership, leadership, snapshot): retried only when it certainly had no effect. */
    public Answer change(String method, String pathAndQuery, byte[] jsonBody) {
        return call(method, pathAndQuery, jsonBody, "application/json", Retry.SAFE_ONLY);
    }

    /** One request to one node (no retries, redirects followed); null when it cannot be reached. */
    public Answer at(URI base, String method, String pathAndQuery, byte[] body) {
        try {
            return send(base, method, pathAndQuery, body, "application/json", null);
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CtlException(Ctl.EXIT_FAILED, "interrupted");
        }
    }

    private enum Retry { READ, SESSION, SAFE_ONLY }

    private static String newClientId() {
        return "raftkvctl-" + UUID.randomUUID();
    }

    private Answer call(String method, String pathAndQuery, byte[] body, String contentType, Retry retry) {
        if (retry != Retry.SESSION) {
            return attempts(method, pathAndQuery, body, contentType, retry, null);
        }
        Answer a = null;
        try {
            a = attempts(method, pathAndQuery, body, contentType, retry, new String[] {clientId, Long.toString(++sequence)});
            return a;
        } finally {
            if (a != null && (a.status / 100 == 2 || a.status == 409)) {
                sessionKnown = true;
            } else if (!sessionKnown) {
                clientId = newClientId();
                sequence = 0;
            }
        }
    }

    private Answer attempts(String method, String pathAndQuery, byte[] body, String contentType, Retry retry,
            String[] session) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> failures = new ArrayList<>();
        long pause = 50;
        for (int attempt = 0; ; attempt++) {
            URI base = endpoints.get((preferred + attempt) % endpoints.size());
            try {
                Answer a = send(base, method, pathAndQuery, body, contentType, session);
                boolean retryable = a.status == 503 || (retry == Retry.SESSION && (a.status == 504 || a.status == 429))
                        || (retry == Retry.READ && (a.status == 504 || a.status == 429));
                if (!retryable) {
                    preferred = endpoints.indexOf(base);
                    return a;
                }
                failures.add(base + ": " + a.problem());
            } catch (ConnectException | HttpConnectTimeoutException e) {
                failures.add(base + ": unreachable (" + e.getClass().getSimpleName() + ")");
            } catch (IOException e) {
                if (retry == Retry.SAFE_ONLY) {
                    throw new CtlException(Ctl.EXIT_UNAVAILABLE, "the connection to " + base + " failed during the request ("
                            + e + "): whether it took effect is unknown; check with the status or members command");
                }
                failures.add(base + ": " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CtlException(Ctl.EXIT_FAILED, "interrupted");
            }
            if (System.nanoTime() + pause * 1_000_000 > deadline) {
                break;
            }
            if ((attempt + 1) % endpoints.size() == 0) {
                sleep(pause);
                pause = Math.min(pause * 2, 1000);
            }
        }
        throw new CtlException(Ctl.EXIT_UNAVAILABLE, "no endpoint could serve " + method + " " + pathAndQuery
                + " within " + timeout.toMillis() + " ms:\n  " + String.join("\n  ", tail(failures)));
    }

    private static List<String> tail(List<String> l) {
        return l.size() <= 6 ? l : l.subList(l.size() - 6, l.size());
    }

    private Answer send(URI base, String method, String pathAndQuery, byte[] body, String contentType, String[] session)
            throws IOException, InterruptedException {
        URI url = resolve(base, pathAndQuery);
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = request(url).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
            if (body != null) {
                b.header("Content-Type", contentType);
            }
            if (session != null) {
                b.header("Raftkv-Client-Id", session[0]).header("Raftkv-Request-Seq", session[1]);
            }
            HttpResponse<byte[]> r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            String location = r.headers().firstValue("Location").orElse(null);
            if ((r.statusCode() == 307 || r.statusCode() == 308) && location != null && hop < MAX_REDIRECTS) {
                url = url.resolve(location);
                continue;
            }
            return new Answer(r.statusCode(), r.body(), r, url);
        }
    }

    /** Streams a GET (a watch, a snapshot download) from one node, redirects followed. */
    public HttpResponse<InputStream> stream(URI base, String pathAndQuery, Map<String, String> headers, Duration readTimeout)
            throws IOException, InterruptedException {
        URI url = resolve(base, pathAndQuery);
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = request(url).GET();
            if (readTimeout != null) {
                b.timeout(readTimeout);
            }
            headers.forEach(b::header);
            HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            String location = r.headers().firstValue("Location").orElse(null);
            if ((r.statusCode() == 307 || r.statusCode() == 308) && location != null && hop < MAX_REDIRECTS) {
                r.body().close();
                url = url.resolve(location);
                continue;
            }
            return r;
        }
    }

    static URI resolve(URI base, String pathAndQuery) {
        String b = base.toString();
        return URI.create((b.endsWith("/") ? b.substring(0, b.length() - 1) : b) + pathAndQuery);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CtlException(Ctl.EXIT_FAILED, "interrupted");
        }
    }

    /** A key as a URL path (slashes kept, everything else outside unreserved characters percent-encoded). */
    static String keyPath(String key) {
        StringBuilder sb = new StringBuilder();
        for (byte x : key.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~/".indexOf(c) >= 0) {
                sb.append((char) c);
            } else {
                sb.append('%').append(String.format("%02X", c));
            }
        }
        return sb.toString();
    }

    /** A query parameter value, percent-encoded. */
    static String q(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
