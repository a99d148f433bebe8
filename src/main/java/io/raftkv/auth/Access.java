package io.raftkv.auth;

/**
 * What a request needs: nothing ({@link Kind#NONE}: peer RPC and health probes), any authenticated principal, the
 * {@code admin} role, the {@code read} role ({@link Kind#READ_ROLE}: a read grant on any prefix, for views of the
 * cluster that show no key or value), or {@code read}/{@code write} on a key. For a listing or a watch of a prefix the "key" is that
 * prefix: a principal may list {@code app/config/} with {@code read:app/} but not with {@code read:app/config/x}.
 */
public record Access(Kind kind, String key) {

    public enum Kind {
        NONE, AUTHENTICATED, ADMIN, READ_ROLE, READ, WRITE
    }

    public static final Access NONE = new Access(Kind.NONE, null);
    public static final Access AUTHENTICATED = new Access(Kind.AUTHENTICATED, null);
    public static final Access ADMIN = new Access(Kind.ADMIN, null);
    public static final Access READ_ROLE = new Access(Kind.READ_ROLE, null);

    public static Access read(String key) {
        return new Access(Kind.READ, key == null ? "" : key);
    }

    public static Access write(String key) {
        return new Access(Kind.WRITE, key == null ? "" : key);
    }

    /** For a 403's detail: what was missing. */
    public String describe() {
        return switch (kind) {
            case NONE -> "nothing";
            case AUTHENTICATED -> "any credentials";
            case ADMIN -> "the admin role";
            case READ_ROLE -> "the read role (a read grant on any prefix)";
            case READ -> "read on '" + key + "'";
            case WRITE -> "write on '" + key + "'";
        };
    }
}
