package io.raftkv.auth;

/**
 * One permission of a principal: {@code admin}, or {@code read:<prefix>} / {@code write:<prefix>} on the keys that
 * start with {@code prefix} ({@code *} for every key). Prefixes are plain string prefixes: {@code read:app} covers
 * {@code app/x} and {@code apple} alike, so end a prefix with {@code /} to mean a "directory". A trailing {@code *}
 * ({@code read:app/*}) is the same as the prefix without it.
 */
public record Grant(Role role, String prefix) {

    /** What a grant allows. {@code write} does not imply {@code read}, and {@code admin} implies neither. */
    public enum Role {
        READ, WRITE, ADMIN
    }

    /** Every key. */
    public static final String ALL_KEYS = "";

    public Grant {
        if (role == Role.ADMIN && !prefix.isEmpty()) {
            throw new IllegalArgumentException("admin takes no prefix");
        }
    }

    /** Parses {@code admin}, {@code read:P}, {@code write:P}; throws with a message fit for the operator. */
    public static Grant parse(String text) {
        String s = text.trim();
        if (s.equals("admin")) {
            return new Grant(Role.ADMIN, ALL_KEYS);
        }
        int colon = s.indexOf(':');
        String role = colon < 0 ? s : s.substring(0, colon);
        Role r = switch (role) {
            case "read" -> Role.READ;
            case "write" -> Role.WRITE;
            default -> throw new IllegalArgumentException("unknown grant '" + s + "' (admin, read:<prefix>, write:<prefix>)");
        };
        if (colon < 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("grant '" + s + "' needs a key prefix: " + role + ":<prefix>, or "
                    + role + ":* for every key");
        }
        String prefix = s.substring(colon + 1);
        if (prefix.endsWith("*")) {
            prefix = prefix.substring(0, prefix.length() - 1);
            if (prefix.contains("*")) {
                throw new IllegalArgumentException("grant '" + s + "': '*' is allowed only at the end of a prefix");
            }
        } else if (prefix.contains("*")) {
            throw new IllegalArgumentException("grant '" + s + "': '*' is allowed only at the end of a prefix");
        }
        return new Grant(r, prefix);
    }

    /** Whether this grant allows {@code role} on {@code key} (or on a listing or watch of the keys under it). */
    public boolean allows(Role wanted, String key) {
        if (wanted != role) {
            return false;
        }
        return role == Role.ADMIN || key.startsWith(prefix);
    }

    @Override
    public String toString() {
        return role == Role.ADMIN ? "admin" : role.name().toLowerCase(java.util.Locale.ROOT) + ":" + (prefix.isEmpty() ? "*" : prefix);
    }
}
