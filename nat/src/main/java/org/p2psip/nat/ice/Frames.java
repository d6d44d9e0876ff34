package org.p2psip.nat.ice;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;

/** Length-prefixed frames on a TCP stream (2-byte length, at most {@link AttachCodec#MAX_BYTES}). */
final class Frames {
    private Frames() {
    }

    /** Reads one frame; throws {@link EOFException} at the end of the stream and IOException for an oversized one. */
    static byte[] read(DataInputStream in) throws IOException {
        int len = in.readUnsignedShort();
        if (len == 0 || len > AttachCodec.MAX_BYTES) {
            throw new IOException("frame of " + len + " bytes outside 1.." + AttachCodec.MAX_BYTES + "; closing");
        }
        byte[] b = new byte[len];
        in.readFully(b);
        return b;
    }

    static void write(DataOutputStream out, byte[] frame) throws IOException {
        synchronized (out) {
            out.writeShort(frame.length);
            out.write(frame);
            out.flush();
        }
    }
}
