package org.p2psip.nat.dtls;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A man in the middle on 127.0.0.1 between A and B: A talks to {@link #forA()}, B to {@link #forB()}. Each
 * side sees the relay's other socket as the peer's address. It can pass, drop (a NAT that forgot the binding),
 * hold (to force a simultaneous open), record what passes and inject datagrams as if from either side.
 */
final class UdpRelay implements AutoCloseable {
    enum Mode { PASS, DROP, HOLD }

    private final InetSocketAddress a;
    private final InetSocketAddress b;
    private final DatagramSocket front;
    private final DatagramSocket back;
    private final List<Thread> threads = new ArrayList<>();
    private final List<Object[]> held = new ArrayList<>();
    private volatile Mode mode = Mode.PASS;
    private volatile boolean closed;
    /** Datagrams A sent towards B, in order. */
    final CopyOnWriteArrayList<byte[]> fromA = new CopyOnWriteArrayList<>();
    /** Datagrams B sent towards A, in order. */
    final CopyOnWriteArrayList<byte[]> fromB = new CopyOnWriteArrayList<>();

    UdpRelay(InetSocketAddress a, InetSocketAddress b) throws SocketException {
        this.a = a;
        this.b = b;
        this.front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        this.back = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        threads.add(pump(front, back, b, fromA));
        threads.add(pump(back, front, a, fromB));
        threads.forEach(Thread::start);
    }

    /** The address A sends to in order to reach B. */
    InetSocketAddress forA() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    /** The address B sends to in order to reach A. */
    InetSocketAddress forB() {
        return (InetSocketAddress) back.getLocalSocketAddress();
    }

    void mode(Mode m) {
        if (m != Mode.HOLD && mode == Mode.HOLD) {
            List<Object[]> release;
            synchronized (held) {
                mode = m;
                release = new ArrayList<>(held);
                held.clear();
            }
            if (m == Mode.PASS) {
                for (Object[] h : release) {
                    send((DatagramSocket) h[0], (byte[]) h[1], (InetSocketAddress) h[2]);
                }
            }
            return;
        }
        mode = m;
    }

    /** Sends {@code d} to B as if A sent it. */
    void injectToB(byte[] d) {
        send(back, d, b);
    }

    /** Sends {@code d} to A as if B sent it. */
    void injectToA(byte[] d) {
        send(front, d, a);
    }

    private Thread pump(DatagramSocket in, DatagramSocket out, InetSocketAddress to, List<byte[]> log) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[65_535];
            while (!closed) {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                try {
                    in.receive(p);
                } catch (IOException e) {
                    return;
                }
                byte[] d = java.util.Arrays.copyOf(p.getData(), p.getLength());
                log.add(d);
                Mode m = mode;
                if (m == Mode.HOLD) {
                    synchronized (held) {
                        if (mode == Mode.HOLD) {
                            held.add(new Object[] {out, d, to});
                            continue;
                        }
                        m = mode;
                    }
                }
                if (m == Mode.PASS) {
                    send(out, d, to);
                }
            }
        }, "udp-relay");
        t.setDaemon(true);
        return t;
    }

    private static void send(DatagramSocket s, byte[] d, InetSocketAddress to) {
        try {
            s.send(new DatagramPacket(d, d.length, to));
        } catch (IOException e) {
            // closed
        }
    }

    @Override
    public void close() {
        closed = true;
        front.close();
        back.close();
    }
}
