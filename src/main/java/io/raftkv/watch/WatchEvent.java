package io.raftkv.watch;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One change of one key, as a watcher sees it: a put or a delete that took effect at log index {@code index}.
 *
 * @param index   the log index of the write
 * @param put     true for a put, false for a delete
 * @param key     the key
 * @param version the key's version after the write: {@code index} for a put, 0 for a delete
 * @param value   a put's new value (null for a delete); never modified
 */
public record WatchEvent(long index, boolean put, String key, long version, byte[] value) {

    /** Bytes this event holds on the heap, roughly (what the history ring counts). */
    long weight() {
        return 64 + 2L * key.length() + (value == null ? 0 : value.length);
    }

    public String type() {
        return put ? "put" : "delete";
    }

    /**
     * The event as JSON fields: {@code type, key, version, index}, and with {@code values} a put's value as
     * {@code value} (UTF-8 text) or, when it is not valid UTF-8, {@code valueBase64}.
     */
    public Map<String, Object> json(boolean values) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", type());
        m.put("key", key);
        m.put("version", version);
        m.put("index", index);
        if (put && values) {
            String text = utf8(value);
            if (text != null) {
                m.put("value", text);
            } else {
                m.put("valueBase64", Base64.getEncoder().encodeToString(value));
            }
        }
        return m;
    }

    static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
