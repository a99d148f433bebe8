package io.raftkv.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The principals of a tokens file, parsed. One principal per line, fields separated by blanks:
 * <pre>
 * # token                      name     grants (blank or comma separated)
 * s3cr3t-token-of-at-least-16  ops      admin read:* write:*
 * sha256:9f86d081884c7d65...   app      read:app/ write:app/cache/
 * client-cert                  billing  read:billing/ write:billing/
 * </pre>
 * The first field is the bearer token itself (at least 16 characters, no blanks), or {@code sha256:<64 hex digits>},
 * the SHA-256 of the token (so the file need not hold it), or {@code client-cert}: that principal has no token and
 * authenticates with a client certificate whose subject CN or one of whose subject alternative names (DNS, e-mail,
 * URI) is the name. {@code #} starts a comment line. Tokens never appear in error messages.
 */
public final class Credentials {

    public static final String CLIENT_CERT = "client-cert";
    public static final int MIN_TOKEN_CHARS = 16;

    private record TokenEntry(byte[] hash, Principal principal) {
    }

    private final List<TokenEntry> tokens;
    private final Map<String, Principal> certPrincipals;

    private Credentials(List<TokenEntry> tokens, Map<String, Principal> certPrincipals) {
        this.tokens = List.copyOf(tokens);
        this.certPrincipals = Map.copyOf(certPrincipals);
    }

    public static final Credentials EMPTY = new Credentials(List.of(), Map.of());

    /** Parses a tokens file's text; throws IllegalArgumentException naming the line (never the token) on any error. */
    public static Credentials parse(String text) {
        List<TokenEntry> tokens = new ArrayList<>();
        Map<String, Principal> certs = new LinkedHashMap<>();
        Set<String> seen = new HashSet<>();
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String where = "line " + (i + 1) + ": ";
            String[] f = line.split("[\\s,]+");
            if (f.length < 3) {
                throw new IllegalArgumentException(where + "expected '<token> <name> <grant>...', found " + f.length
                        + " field(s)");
            }
            String name = f[1];
            if (!name.matches("[A-Za-z0-9._@:/=+-]{1,256}")) {
                throw new IllegalArgumentException(where + "bad principal name (1 to 256 of A-Z a-z 0-9 . _ @ : / = + -)");
            }
            List<Grant> grants = new ArrayList<>();
            for (int g = 2; g < f.length; g++) {
                try {
                    grants.add(Grant.parse(f[g]));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(where + e.getMessage());
                }
            }
            if (f[0].equals(CLIENT_CERT)) {
                Principal p = new Principal(name, grants, Principal.Source.CLIENT_CERTIFICATE);
                if (certs.put(name, p) != null) {
                    throw new IllegalArgumentException(where + "a second client-cert line for '" + name + "'");
                }
                continue;
            }
            byte[] hash = tokenHash(f[0], where);
            if (!seen.add(hex(hash))) {
                throw new IllegalArgumentException(where + "the same token as an earlier line (principal '" + name + "')");
            }
            tokens.add(new TokenEntry(hash, new Principal(name, grants, Principal.Source.TOKEN)));
        }
        return new Credentials(tokens, certs);
    }

    private static byte[] tokenHash(String field, String where) {
        if (field.regionMatches(true, 0, "sha256:", 0, 7)) {
            String h = field.substring(7).toLowerCase(Locale.ROOT);
            if (!h.matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException(where + "sha256: must be followed by 64 hex digits");
            }
            byte[] out = new byte[32];
            for (int i = 0; i < 32; i++) {
                out[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
            }
            return out;
        }
        if (field.length() < MIN_TOKEN_CHARS) {
            throw new IllegalArgumentException(where + "the token is shorter than " + MIN_TOKEN_CHARS + " characters");
        }
        return sha256(field);
    }

    /** The principal whose token is {@code token}, or null. Every entry is compared, in constant time each. */
    public Principal byToken(String token) {
        byte[] h = sha256(token);
        Principal found = null;
        for (TokenEntry e : tokens) {
            if (MessageDigest.isEqual(e.hash(), h) && found == null) {
                found = e.principal();
            }
        }
        return found;
    }

    /** The client-cert principal named by the first of {@code names} (the CN, then the SANs) that has one, or null. */
    public Principal byCertificateNames(Collection<String> names) {
        for (String n : names) {
            Principal p = certPrincipals.get(n);
            if (p != null) {
                return p;
            }
        }
        return null;
    }

    public int tokenCount() {
        return tokens.size();
    }

    public int certPrincipalCount() {
        return certPrincipals.size();
    }

    static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return sb.toString();
    }
}
