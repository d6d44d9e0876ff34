package org.p2psip.testbed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Re-reads a small Linux {@code /proc} file (a thread's {@code schedstat}, {@code /proc/loadavg}) through one open
 * channel and one buffer, so a benchmark can sample it around every operation without allocating: reading it with
 * {@code Files.readString} made a third of the bench's garbage. Not thread-safe: one reader per sampling thread.
 */
final class ProcReader implements AutoCloseable {
    private final FileChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocate(256);

    private ProcReader(FileChannel channel) {
        this.channel = channel;
    }

    /** A reader of {@code path}, or null where it cannot be opened (not Linux, thread gone). */
    static ProcReader open(Path path) {
        try {
            return new ProcReader(FileChannel.open(path, StandardOpenOption.READ));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Reads the file again and parses its whitespace-separated fields into {@code out} (fields that are not whole
     * decimal numbers, like loadavg's {@code 1.23} or {@code 3/250}, end at their first non-digit: {@code 3/250}
     * gives 3). Returns false, leaving {@code out} alone, when the file could not be read.
     */
    boolean read(long[] out) {
        buf.clear();
        try {
            int n;
            int pos = 0;
            while ((n = channel.read(buf, pos)) > 0) {
                pos += n;
                if (!buf.hasRemaining()) {
                    break;
                }
            }
        } catch (IOException e) {
            return false;
        }
        buf.flip();
        int field = 0;
        while (buf.hasRemaining() && field < out.length) {
            byte b = buf.get();
            if (b == ' ' || b == '\n' || b == '\t') {
                continue;
            }
            long v = 0;
            boolean digits = true;
            while (true) {
                if (digits && b >= '0' && b <= '9') {
                    v = v * 10 + (b - '0');
                } else {
                    digits = false;
                }
                if (!buf.hasRemaining()) {
                    break;
                }
                b = buf.get();
                if (b == ' ' || b == '\n' || b == '\t') {
                    break;
                }
            }
            out[field++] = v;
        }
        return true;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do: a /proc file
        }
    }
}
