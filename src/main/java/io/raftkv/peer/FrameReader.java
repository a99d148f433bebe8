package io.raftkv.peer;

import io.raftkv.transport.MalformedMessageException;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;

import java.util.function.Consumer;

/**
 * Splits a byte stream into {@link PeerFrames} bodies: a 4-byte length, then that many bytes. A length over the limit
 * (or a malformed one) goes to {@code onError} before any of the frame is buffered; the caller closes the connection.
 */
final class FrameReader implements Handler<Buffer> {

    private final RecordParser parser = RecordParser.newFixed(PeerFrames.HEADER_BYTES);
    private boolean header = true;
    private boolean failed;

    FrameReader(int maxFrameBytes, Consumer<byte[]> onFrame, Consumer<MalformedMessageException> onError) {
        parser.handler(buf -> {
            if (failed) {
                return;
            }
            if (header) {
                int len;
                try {
                    len = PeerFrames.length(buf.getInt(0), maxFrameBytes);
                } catch (MalformedMessageException e) {
                    failed = true;
                    onError.accept(e);
                    return;
                }
                header = false;
                parser.fixedSizeMode(len);
            } else {
                header = true;
                parser.fixedSizeMode(PeerFrames.HEADER_BYTES);
                onFrame.accept(buf.getBytes());
            }
        });
    }

    @Override
    public void handle(Buffer b) {
        if (!failed) {
            parser.handle(b);
        }
    }
}
