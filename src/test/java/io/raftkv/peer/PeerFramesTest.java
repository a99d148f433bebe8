package io.raftkv.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftkv.transport.MalformedMessageException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;

class PeerFramesTest {

    private static byte[] body(byte[] frame) {
        assertEquals(frame.length - 4, ByteBuffer.wrap(frame).getInt(), "the length prefix counts what follows");
        return Arrays.copyOfRange(frame, 4, frame.length);
    }

    @Test
    void everyFrameRoundTrips() {
        assertEquals(new PeerFrames.Hello(PeerFrames.VERSION, "node1", "node2"), PeerFrames.decodeHello(body(PeerFrames.hello("node1", "node2"))));
        assertEquals(new PeerFrames.Refused("CLUSTER", "why"), PeerFrames.decodeRefused(body(PeerFrames.refused("CLUSTER", "why"))));
        PeerFrames.Messages m = PeerFrames.decodeMessages(body(PeerFrames.messages(null, "inc", new byte[] {1, 2, 3})));
        assertEquals("", m.cluster());
        assertEquals("inc", m.incarnation());
        assertArrayEquals(new byte[] {1, 2, 3}, m.batch());
        PeerFrames.Chunk c = new PeerFrames.Chunk(7, "c", "i", 3, 100, 2, 4096, 10_000, new byte[] {9, 8});
        PeerFrames.Chunk back = PeerFrames.decodeChunk(body(PeerFrames.chunk(c)));
        assertEquals(c.toString().replaceAll("data=\\[B@\\w+", ""), back.toString().replaceAll("data=\\[B@\\w+", ""));
        assertArrayEquals(c.data(), back.data());
        PeerFrames.ChunkReply r = new PeerFrames.ChunkReply(7, 409, 4096, "expected offset 4096");
        assertEquals(r, PeerFrames.decodeChunkReply(body(PeerFrames.chunkReply(r))));
        assertEquals(PeerFrames.Type.HELLO_OK, PeerFrames.type(body(PeerFrames.helloOk())));
        assertEquals(PeerFrames.Type.ADMITTED, PeerFrames.type(body(PeerFrames.admitted())));
    }

    @Test
    void pingPongAndTheListenersFeatures() {
        assertEquals(42L, PeerFrames.decodeNonce(body(PeerFrames.ping(42))));
        assertEquals(-7L, PeerFrames.decodeNonce(body(PeerFrames.pong(-7))));
        assertEquals(PeerFrames.Type.PONG, PeerFrames.type(body(PeerFrames.pong(1))));
        assertEquals(PeerFrames.FEATURE_PING, PeerFrames.decodeHelloOkFeatures(body(PeerFrames.helloOk())));
        // An older listener's HELLO_OK has no features byte: it is not sent PINGs (it would refuse the frame).
        assertEquals(0, PeerFrames.decodeHelloOkFeatures(new byte[] {(byte) PeerFrames.Type.HELLO_OK.code}));
        assertThrows(io.raftkv.transport.MalformedMessageException.class, () -> PeerFrames.decodeNonce(body(PeerFrames.helloOk())));
    }

    @Test
    void truncatedTrailingAndUnknownFramesAreMalformed() {
        byte[] hello = body(PeerFrames.hello("node1", "node2"));
        for (int cut = 1; cut < hello.length; cut++) {
            byte[] part = Arrays.copyOf(hello, cut);
            assertThrows(MalformedMessageException.class, () -> PeerFrames.decodeHello(part), "cut at " + cut);
        }
        byte[] longer = Arrays.copyOf(hello, hello.length + 1);
        assertThrows(MalformedMessageException.class, () -> PeerFrames.decodeHello(longer));
        assertThrows(MalformedMessageException.class, () -> PeerFrames.type(new byte[] {99}));
        assertThrows(MalformedMessageException.class, () -> PeerFrames.type(new byte[0]));
        assertThrows(MalformedMessageException.class, () -> PeerFrames.decodeMessages(hello), "a HELLO is not a MESSAGES frame");
    }

    @Test
    void theLengthLimitIsCheckedBeforeReading() {
        assertEquals(1000, PeerFrames.length(1000, 1000));
        assertThrows(PeerFrames.FrameTooLargeException.class, () -> PeerFrames.length(1001, 1000));
        assertThrows(PeerFrames.FrameTooLargeException.class, () -> PeerFrames.length(Integer.MAX_VALUE, 1000));
        assertThrows(MalformedMessageException.class, () -> PeerFrames.length(0, 1000));
        assertThrows(MalformedMessageException.class, () -> PeerFrames.length(-5, 1000));
    }
}
