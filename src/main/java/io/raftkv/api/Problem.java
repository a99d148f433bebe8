package io.raftkv.api;

import jakarta.ws.rs.core.Response;

import java.util.LinkedHashMap;
import java.util.Map;

/** RFC 9457 problem details: every error the API returns has this JSON body. */
public final class Problem {

    public static final String MEDIA_TYPE = "application/problem+json";

    private Problem() {
    }

    public static Response.ResponseBuilder builder(int status, String title, String detail, Map<String, Object> extra) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", "about:blank");
        body.put("title", title);
        body.put("status", status);
        if (detail != null) {
            body.put("detail", detail);
        }
        if (extra != null) {
            body.putAll(extra);
        }
        return Response.status(status).type(MEDIA_TYPE).entity(body);
    }

    /** 503 with {@code Retry-After: 1}: the request had no effect and may be retried shortly. */
    public static Response unavailable(String detail) {
        return builder(503, "Service Unavailable", detail, null).header("Retry-After", "1").build();
    }

    public static Response of(int status, String title, String detail) {
        return builder(status, title, detail, null).build();
    }

    public static Response of(int status, String title, String detail, Map<String, Object> extra) {
        return builder(status, title, detail, extra).build();
    }
}
