package org.p2psip.nat.portmap;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * A UDP responder on 127.0.0.1 standing in for a router's port 5351 in tests of client logic (fallback, renewal,
 * loss, hostile answers); the real router is miniupnpd in PortMappingLabTest. It records every request.
 */
final class ScriptedRouter implements AutoCloseable {
    static final byte[] EXTERNAL = {(byte) 203, 0, 113, 77};

    private final DatagramSocket socket;
    private final List<byte[]> requests = new ArrayList<>();
    private volatile Function<byte[], byte[]> behaviour;

    ScriptedRouter(Function<byte[], byte[]> behaviour) throws IOException {
        this.behaviour = behaviour;
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::serve, "scripted-router");
        t.setDaemon(true);
        t.start();
    }

    InetSocketAddress address() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    void behave(Function<byte[], byte[]> b) {
        behaviour = b;
    }

    synchronized List<byte[]> requests() {
        return new ArrayList<>(requests);
    }

    private void serve() {
        byte[] buf = new byte[2048];
        while (!socket.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                socket.receive(p);
                byte[] req = Arrays.copyOf(p.getData(), p.getLength());
                synchronized (this) {
                    requests.add(req);
                }
                Function<byte[], byte[]> b = behaviour;
                byte[] reply = b == null ? null : b.apply(req);
                if (reply != null) {
                    socket.send(new DatagramPacket(reply, reply.length, p.getSocketAddress()));
                }
            } catch (IOException e) {
                return;
            }
        }
    }

    /** A NAT-PMP-only router (RFC 6886): other versions get "unsupported version"; lifetimes capped at {@code max}. */
    static Function<byte[], byte[]> natPmpOnly(int max) {
        return req -> {
            int op = req.length > 1 ? req[1] & 0xFF : 0;
            ByteBuffer b = ByteBuffer.allocate(16).put((byte) 0).put((byte) (128 + op));
            if (req[0] != 0) {
                return ByteBuffer.allocate(8).put((byte) 0).put((byte) (128 + op)).putShort((short) 1).putInt(5)
                        .array();
            }
            if (op == 0) {
                return ByteBuffer.allocate(12).put((byte) 0).put((byte) 128).putShort((short) 0).putInt(5)
                        .put(EXTERNAL).array();
            }
            ByteBuffer r = ByteBuffer.wrap(req);
            int internal = r.getShort(4) & 0xFFFF;
            int suggested = r.getShort(6) & 0xFFFF;
            long lifetime = Math.min(r.getInt(8) & 0xFFFF_FFFFL, max);
            return b.putShort((short) 0).putInt(5).putShort((short) internal)
                    .putShort((short) (lifetime == 0 ? 0 : suggested == 0 ? internal : suggested))
                    .putInt((int) lifetime).array();
        };
    }

    /** A PCP router granting MAP requests as asked, lifetimes capped at {@code max}. */
    static Function<byte[], byte[]> pcp(int max) {
        return req -> {
            if (req.length != 60 || req[0] != 2) {
                return null;
            }
            ByteBuffer r = ByteBuffer.wrap(req);
            long lifetime = Math.min(r.getInt(4) & 0xFFFF_FFFFL, max);
            ByteBuffer b = ByteBuffer.allocate(60);
            b.put((byte) 2).put((byte) 0x81).put((byte) 0).put((byte) 0).putInt((int) lifetime).putInt(7)
                    .put(new byte[12]);
            b.put(req, 24, 16);
            int internal = r.getShort(40) & 0xFFFF;
            int suggested = r.getShort(42) & 0xFFFF;
            b.putShort((short) internal).putShort((short) (suggested == 0 ? internal : suggested));
            b.put(new byte[10]).put((byte) 0xff).put((byte) 0xff).put(EXTERNAL);
            return b.array();
        };
    }

    @Override
    public void close() {
        socket.close();
    }
}
