package io.raftkv.inspect;

import io.raftkv.raft.Entry;
import io.raftkv.statemachine.KvCommand;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A log entry decoded for people: one line of text ({@code PUT lab/x (5 bytes: "hello") if version = 3}) and the same
 * as JSON fields. The one decoder behind both the offline dump ({@link DataDirDump}) and {@code GET /v1/log}, so they
 * show an entry the same way. Values are shown by their head ({@value #HEAD_BYTES} bytes): as quoted text when they
 * are printable UTF-8, else as hex.
 *
 * @param index the entry's index
 * @param term  its term
 * @param type  {@code NOOP}, {@code COMMAND} or {@code CONFIG}
 * @param text  the decoded content, one line
 * @param json  every field, in a fixed order: index, term, type, text, then the type's own fields
 */
public record EntryView(long index, long term, String type, String text, Map<String, Object> json) {

    /** How many bytes of a value (or payload) an entry shows. */
    public static final int HEAD_BYTES = 32;

    public static EntryView of(Entry e) {
        Map<String, Object> fields = new LinkedHashMap<>();
        String text = switch (e.type()) {
            case NOOP -> "NOOP (a new leader's first entry)";
            case COMMAND -> command(e.data(), fields);
            case CONFIG -> config(e.data(), fields);
            case IDENTITY -> identity(e.data(), fields);
            default -> generic(e.type().name(), e.data(), fields); // a type added after this decoder
        };
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("index", e.index());
        json.put("term", e.term());
        json.put("type", e.type().name());
        json.put("text", text);
        json.putAll(fields);
        return new EntryView(e.index(), e.term(), e.type().name(), text, json);
    }

    /** The entry as one line: index, term, decoded content. */
    public String line() {
        return String.format("%8d  term %-4d %s", index, term, text);
    }

    private static String command(byte[] data, Map<String, Object> f) {
        KvCommand c;
        try {
            c = KvCommand.decode(data);
        } catch (IllegalArgumentException e) {
            f.put("error", e.getMessage());
            f.put("bytes", data.length);
            f.put("hexHead", hexDigits(data, HEAD_BYTES));
            return "undecodable command (" + data.length + " bytes: " + hex(data, HEAD_BYTES) + "): " + e.getMessage();
        }
        StringBuilder sb = new StringBuilder();
        sb.append(c.op().name()).append(' ').append(printableKey(c.key()));
        f.put("op", c.op().name());
        f.put("key", c.key());
        if (c.op() == KvCommand.Op.PUT) {
            sb.append(" (").append(bytesText(c.value())).append(')');
            f.put("valueBytes", c.value().length);
            putHead(f, "value", c.value());
        }
        KvCommand.Condition cond = c.condition();
        if (cond instanceof KvCommand.VersionIs v) {
            sb.append(v.version() == 0 ? " if absent" : " if version = " + v.version());
            f.put("ifVersion", v.version());
        } else if (cond instanceof KvCommand.ValueIs v) {
            sb.append(" if value = (").append(bytesText(v.value())).append(')');
            f.put("ifValueBytes", v.value().length);
            putHead(f, "ifValue", v.value());
        }
        if (c.clientId() != null) {
            sb.append(" [client ").append(c.clientId()).append(" #").append(c.sequence()).append(']');
            f.put("clientId", c.clientId());
            f.put("sequence", c.sequence());
        }
        return sb.toString();
    }

    /**
     * A configuration (membership) entry: the change (add a learner, promote, remove; with the member's address when
     * it has one) and the whole configuration it leads to. One that does not decode is shown generically (byte length
     * and hex head) with the reason.
     */
    static String config(byte[] data, Map<String, Object> f) {
        io.raftkv.raft.ConfigEntry c;
        try {
            c = io.raftkv.raft.ConfigEntry.decode(data);
        } catch (IllegalArgumentException e) {
            f.put("undecodable", e.getMessage());
            return generic("CONFIG", data, f);
        }
        String address = c.change().context().length == 0 ? null
                : new String(c.change().context(), java.nio.charset.StandardCharsets.UTF_8);
        f.put("change", c.change().type().name());
        f.put("member", c.change().nodeId());
        if (address != null) {
            f.put("address", address);
        }
        f.put("voters", c.configuration().voters());
        f.put("learners", c.configuration().learners());
        return "CONFIG " + c.change().type().name() + " " + c.change().nodeId() + (address == null ? "" : " (" + address + ")")
                + " -> voters " + c.configuration().voters() + ", learners " + c.configuration().learners();
    }

    /** A member's incarnation, registered by a leader (see io.raftkv.membership.Identity). */
    static String identity(byte[] data, Map<String, Object> f) {
        try {
            String[] r = io.raftkv.membership.Identity.decodeRegistration(data);
            f.put("member", r[0]);
            f.put("incarnation", r[1]);
            return "IDENTITY " + r[0] + " is incarnation " + r[1];
        } catch (IllegalArgumentException e) {
            f.put("undecodable", e.getMessage());
            return generic("IDENTITY", data, f);
        }
    }

    /** Any payload: its type, byte length and hex head. */
    private static String generic(String type, byte[] data, Map<String, Object> f) {
        f.put("bytes", data.length);
        f.put("hexHead", hexDigits(data, HEAD_BYTES));
        return type + " (" + data.length + " bytes" + (data.length == 0 ? "" : ": " + hex(data, HEAD_BYTES)) + ")";
    }

    /** {@code name} (the text head, if printable UTF-8) or {@code nameHex} (hex head), and {@code nameTruncated}. */
    private static void putHead(Map<String, Object> f, String name, byte[] b) {
        String s = printable(b, HEAD_BYTES);
        if (s != null) {
            f.put(name, s);
        } else {
            f.put(name + "Hex", hexDigits(b, HEAD_BYTES));
        }
        f.put(name + "Truncated", b.length > HEAD_BYTES);
    }

    /** {@code n bytes: "text…"} or {@code n bytes: 0x0a0b…}; {@code 0 bytes} for an empty value. */
    public static String bytesText(byte[] b) {
        return bytesText(b, HEAD_BYTES);
    }

    public static String bytesText(byte[] b, int head) {
        String n = b.length + (b.length == 1 ? " byte" : " bytes");
        if (b.length == 0) {
            return n;
        }
        String s = printable(b, head);
        if (s != null) {
            return n + ": \"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" + (b.length > head ? "…" : "");
        }
        return n + ": " + hex(b, head);
    }

    /** The first {@code head} bytes as text if they are UTF-8 without control characters (a cut character is dropped). */
    public static String printable(byte[] b, int head) {
        int len = Math.min(b.length, head);
        // a cut multi-byte character at the end of the head is not a reason to show hex
        int cut = len;
        if (len < b.length) {
            while (cut > 0 && cut > len - 3 && (b[cut] & 0xC0) == 0x80) {
                cut--;
            }
        }
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, 0, cut)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (Character.isISOControl(ch)) {
                return null;
            }
        }
        return s;
    }

    /** A key for a line of text: as it is, with control characters escaped ({@code \n}, {@code \u0001}). */
    public static String printableKey(String key) {
        StringBuilder sb = null;
        for (int i = 0; i < key.length(); i++) {
            char ch = key.charAt(i);
            if (Character.isISOControl(ch)) {
                if (sb == null) {
                    sb = new StringBuilder(key.substring(0, i));
                }
                sb.append(ch == '\n' ? "\\n" : ch == '\t' ? "\\t" : String.format("\\u%04x", (int) ch));
            } else if (sb != null) {
                sb.append(ch);
            }
        }
        return sb == null ? key : sb.toString();
    }

    /** {@code 0x} and the hex of the first {@code head} bytes, {@code …} if there are more. */
    public static String hex(byte[] b, int head) {
        return "0x" + hexDigits(b, head) + (b.length > head ? "…" : "");
    }

    private static String hexDigits(byte[] b, int head) {
        int len = Math.min(b.length, head);
        StringBuilder sb = new StringBuilder(len * 2);
        for (int i = 0; i < len; i++) {
            sb.append(Character.forDigit((b[i] >> 4) & 0xF, 16)).append(Character.forDigit(b[i] & 0xF, 16));
        }
        return sb.toString();
    }
}
