package io.raftkv.auth;

import java.util.List;

/** Who sent a request (a token's or a client certificate's name) and what it may do. */
public record Principal(String name, List<Grant> grants, Source source) {

    /** How the principal was authenticated. */
    public enum Source {
        TOKEN, CLIENT_CERTIFICATE
    }

    public Principal {
        grants = List.copyOf(grants);
    }

    /** Whether the principal may make a request that needs {@code access}. */
    public boolean may(Access access) {
        return switch (access.kind()) {
            case NONE, AUTHENTICATED -> true;
            case ADMIN -> grants.stream().anyMatch(g -> g.allows(Grant.Role.ADMIN, ""));
            case READ_ROLE -> grants.stream().anyMatch(g -> g.role() == Grant.Role.READ);
            case READ -> grants.stream().anyMatch(g -> g.allows(Grant.Role.READ, access.key()));
            case WRITE -> grants.stream().anyMatch(g -> g.allows(Grant.Role.WRITE, access.key()));
        };
    }
}
