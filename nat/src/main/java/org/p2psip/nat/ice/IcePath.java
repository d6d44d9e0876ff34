package org.p2psip.nat.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.nat.dtls.LinkPath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The selected ICE candidate pair as a {@link LinkPath}: sends go out through the ICE component's socket (ice4j
 * sends them from the selected pair's local candidate: the host socket, or through the TURN allocation for a relayed
 * one), and a reader thread hands what arrives from the selected remote address to the {@link DtlsLinkLayer}. ice4j's
 * component socket already keeps STUN (checks, consent freshness) away from this reader. Datagrams from any other
 * address (another pair that succeeded) are dropped and counted: the link uses exactly the selected 5-tuple.
 */
final class IcePath implements LinkPath {
    private static final Logger LOG = LoggerFactory.getLogger(IcePath.class);
    private static final int RECEIVE_BUFFER = 65_535;

    private final DatagramSocket socket;
    private final InetSocketAddress remote;
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong foreign = new AtomicLong();
    private volatile boolean closed;

    IcePath(DatagramSocket socket, InetSocketAddress remote) {
        this.socket = socket;
        this.remote = remote;
    }

    @Override
    public InetSocketAddress remote() {
        return remote;
    }

    @Override
    public void send(byte[] buf, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("ICE path to " + remote + " is closed");
        }
        socket.send(new DatagramPacket(buf, off, len, remote));
    }

    /** Attaches this path to {@code layer} and starts reading into it. */
    void start(DtlsLinkLayer layer, String name) {
        layer.attachPath(this);
        Thread t = new Thread(() -> readLoop(layer), "ice-path-" + name);
        t.setDaemon(true);
        t.start();
    }

    private void readLoop(DtlsLinkLayer layer) {
        byte[] buf = new byte[RECEIVE_BUFFER];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (!closed) {
            try {
                p.setData(buf);
                socket.receive(p);
            } catch (IOException e) {
                if (!closed) {
                    LOG.debug("ICE path to {}: receive failed, path ends: {}", remote, e.toString());
                    layer.detachPath(this);
                }
                return;
            }
            if (!remote.equals(p.getSocketAddress())) {
                foreign.incrementAndGet();
                continue;
            }
            received.incrementAndGet();
            layer.receiveFromPath(this, Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength()));
        }
    }

    long received() {
        return received.get();
    }

    long foreign() {
        return foreign.get();
    }

    void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "IcePath[" + remote + "]";
    }
}
