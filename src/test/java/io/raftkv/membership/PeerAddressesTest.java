package io.raftkv.membership;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Peer addresses: derived, configured, learned, kept; and the records written before they existed still read. */
class PeerAddressesTest {

    @Test
    void derivedFromTheClientUrlOrParsed() {
        assertEquals(URI.create("raftkv://127.0.0.1:9001"), PeerAddresses.derive(URI.create("http://127.0.0.1:8001")));
        assertEquals(URI.create("raftkv://node2:9080"), PeerAddresses.derive(URI.create("http://node2:8080")));
        assertEquals(URI.create("raftkv://h:1080"), PeerAddresses.derive(URI.create("http://h")));
        assertEquals(URI.create("raftkv://h:7000"), PeerAddresses.parse("h:7000", "x"));
        assertEquals(URI.create("raftkv://h:7000"), PeerAddresses.parse("raftkv://h:7000/", "x"));
        for (String bad : new String[] {"h", "http://h:7000", "h:0", "h:70000", "raftkv://h:7000/path", ""}) {
            assertThrows(IllegalArgumentException.class, () -> PeerAddresses.parse(bad, "x"), bad);
        }
    }

    @Test
    void memberContextsWithoutAPeerLineDecodeAsBefore() {
        // Written by a node before peer addresses existed: URL, learner, incarnation.
        MemberContext old = MemberContext.decode("http://n4:8080\nlearner\nincarnation=abc".getBytes(StandardCharsets.UTF_8));
        assertEquals(new MemberContext(URI.create("http://n4:8080"), true, "abc", null), old);
        MemberContext now = new MemberContext(URI.create("http://n4:8080"), false, null, URI.create("raftkv://n4:7000"));
        assertEquals(now, MemberContext.decode(now.encode()));
        assertEquals("http://n4:8080\npeer=raftkv://n4:7000", new String(now.encode(), StandardCharsets.UTF_8));
        // Unknown or damaged lines do not lose the rest.
        MemberContext odd = MemberContext.decode("http://n4:8080\nfuture=1\npeer=not an address".getBytes(StandardCharsets.UTF_8));
        assertEquals(URI.create("http://n4:8080"), odd.url());
        assertNull(odd.peerUrl());
    }

    @Test
    void theDirectoryKeepsLearnedPeerAddressesAndReadsOldFiles(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(MemberDirectory.FILE_NAME), "n4 http://n4:8080 learner\nn5 http://n5:8080\n");
        MemberDirectory d = new MemberDirectory(dir, "n1", Map.of("n1", URI.create("http://n1:8080")),
                Map.of("n1", URI.create("raftkv://n1:7001")));
        assertEquals(URI.create("raftkv://n1:7001"), d.peerUrl("n1"), "configured");
        assertEquals(URI.create("raftkv://n4:9080"), d.peerUrl("n4"), "derived for an old file's member");
        assertTrue(d.staysLearner("n4"));
        d.learn("n6", new MemberContext(URI.create("http://n6:8080"), false, null, URI.create("raftkv://n6:7006")));
        assertTrue(Files.readString(dir.resolve(MemberDirectory.FILE_NAME)).contains("n6 http://n6:8080 peer=raftkv://n6:7006"));
        MemberDirectory reopened = new MemberDirectory(dir, "n1", Map.of("n1", URI.create("http://n1:8080")));
        assertEquals(URI.create("raftkv://n6:7006"), reopened.peerUrl("n6"), "kept across restarts");
        assertTrue(reopened.staysLearner("n4"));
        assertFalse(reopened.staysLearner("n6"));
        reopened.forget("n6");
        assertNull(reopened.peerUrl("n6"));
    }
}
