package io.raftkv.api;

import jakarta.ws.rs.core.Response;

/** Thrown by resources to answer with a problem response (see {@link Problem}). */
public final class ProblemException extends RuntimeException {

    private final transient Response response;

    public ProblemException(Response response) {
        super(String.valueOf(response.getEntity()), null, false, false);
        this.response = response;
    }

    public static ProblemException badRequest(String detail) {
        return new ProblemException(Problem.of(400, "Bad Request", detail));
    }

    public Response response() {
        return response;
    }
}
