package io.raftkv.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.raftkv.raft.Entry;
import io.raftkv.raft.EntryType;
import io.raftkv.raft.Message;
import io.raftkv.raft.MessageType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

class MessageCodecTest {

    private static final List<Message> BATCH = List.of(
            Message.builder(MessageType.APPEND, "node1", "node2", 7).index(10).logTerm(6).commit(9)
                    .entries(List.of(new Entry(7, 11, EntryType.COMMAND, "a".getBytes(StandardCharsets.UTF_8)),
                            Entry.noop(7, 12)))
                    .build(),
            Message.builder(MessageType.APPEND_RESPONSE, "node1", "node2", 7).index(5).reject(true).hint(3, 2).build(),
            Message.builder(MessageType.HEARTBEAT, "node1", "node2", 7).commit(9).context(42).build(),
            Message.builder(MessageType.PRE_VOTE, "node1", "node2", 8).index(12).logTerm(7).build());

    @Test
    void roundTripsEveryField() {
        List<Message> back = MessageCodec.decode(MessageCodec.encode(BATCH));
        assertEquals(BATCH.size(), back.size());
        for (int i = 0; i < BATCH.size(); i++) {
            assertEquals(BATCH.get(i).toString(), back.get(i).toString());
            assertEquals(BATCH.get(i).entries(), back.get(i).entries());
            assertEquals(BATCH.get(i).hintTerm(), back.get(i).hintTerm());
        }
    }

    @Test
    void rejectsGarbageTruncationAndTrailingBytes() {
        byte[] good = MessageCodec.encode(BATCH);
        assertThrows(MalformedMessageException.class, () -> MessageCodec.decode(new byte[0]));
        assertThrows(MalformedMessageException.class, () -> MessageCodec.decode(new byte[] {1, 2, 3}));
        for (int cut = 1; cut < good.length; cut += 7) {
            byte[] truncated = Arrays.copyOf(good, good.length - cut);
            assertThrows(MalformedMessageException.class, () -> MessageCodec.decode(truncated), "cut " + cut);
        }
        byte[] longer = Arrays.copyOf(good, good.length + 1);
        assertThrows(MalformedMessageException.class, () -> MessageCodec.decode(longer));
    }

    @Test
    void randomCorruptionNeverYieldsAnythingButAMalformedError() {
        byte[] good = MessageCodec.encode(BATCH);
        Random random = new Random(1);
        for (int i = 0; i < 5000; i++) {
            byte[] bad = good.clone();
            bad[random.nextInt(bad.length)] ^= (byte) (1 + random.nextInt(255));
            try {
                MessageCodec.decode(bad); // some flips land in payload bytes and still decode: fine
            } catch (MalformedMessageException expected) {
                // rejected as a whole
            }
        }
    }

    @Test
    void rejectsNonContiguousEntries() {
        Message gap = Message.builder(MessageType.APPEND, "node1", "node2", 7).index(10).logTerm(6)
                .entries(List.of(new Entry(7, 12, EntryType.COMMAND, new byte[0]))).build();
        assertThrows(MalformedMessageException.class, () -> MessageCodec.decode(MessageCodec.encode(List.of(gap))));
    }
}
