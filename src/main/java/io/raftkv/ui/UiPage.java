package io.raftkv.ui;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.core.Response;

import java.net.URI;

/**
 * {@code GET /ui}: redirects to {@code /ui/}, where the cluster view's page is served as a static resource
 * ({@code META-INF/resources/ui/}: index.html, ui.js, ui.css; no build step, nothing loaded from elsewhere).
 */
@Path("/ui")
public class UiPage {

    @GET
    public Response page() {
        return Response.status(Response.Status.MOVED_PERMANENTLY).location(URI.create("/ui/")).build();
    }
}
