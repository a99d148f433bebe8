package io.raftkv.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.NotSupportedException;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Turns every exception that reaches the REST layer into a problem response; nothing leaks as HTML or a stack. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response problem(ProblemException e) {
        return e.response();
    }

    @ServerExceptionMapper
    public Response notFound(NotFoundException e) {
        return Problem.of(404, "Not Found", "no such resource");
    }

    @ServerExceptionMapper
    public Response notAllowed(NotAllowedException e) {
        return Problem.of(405, "Method Not Allowed", "allowed: " + e.getResponse().getAllowedMethods());
    }

    @ServerExceptionMapper
    public Response unsupported(NotSupportedException e) {
        return Problem.of(415, "Unsupported Media Type", e.getMessage());
    }

    @ServerExceptionMapper
    public Response json(JsonProcessingException e) {
        return Problem.of(400, "Bad Request", "malformed JSON: " + e.getOriginalMessage());
    }

    @ServerExceptionMapper
    public Response web(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        Response.Status.Family family = Response.Status.Family.familyOf(status);
        String title = Response.Status.fromStatusCode(status) != null ? Response.Status.fromStatusCode(status).getReasonPhrase() : "Error";
        return Problem.of(status, title, family == Response.Status.Family.SERVER_ERROR ? null : e.getMessage());
    }

    @ServerExceptionMapper
    public Response storage(io.raftkv.storage.StorageException e) {
        LOG.warn("storage unavailable while serving a request: " + e.getMessage());
        return Problem.unavailable("this node's storage is unavailable: " + e.getMessage());
    }

    @ServerExceptionMapper
    public Response mapdb(org.mapdb.DBException e) {
        LOG.warn("store unreadable while serving a request: " + e);
        return Problem.unavailable("this node's store cannot be read right now: " + e.getClass().getSimpleName());
    }

    @ServerExceptionMapper
    public Response unexpected(RuntimeException e) {
        LOG.error("unexpected error serving a request", e);
        return Problem.of(500, "Internal Server Error", "unexpected error: " + e.getClass().getSimpleName());
    }
}
