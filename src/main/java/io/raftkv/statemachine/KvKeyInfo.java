package io.raftkv.statemachine;

/** A key as a listing shows it: its version and the size of its value, without the value. */
public record KvKeyInfo(String key, long version, int valueBytes) {
}
