package org.p2psip.nat.ice;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.ice4j.socket.IceSocketWrapper;
import org.p2psip.nat.dtls.DtlsLinkLayer;
import org.p2psip.nat.dtls.LinkPath;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A validated ICE candidate pair as a {@link LinkPath}: sends go out through the socket of the pair's local
 * candidate (its base: the host socket, or the TURN allocation's socket for a relayed one, which wraps them in Send
 * indications or ChannelData), and a reader thread hands what arrives from the pair's remote address to the
 * {@link DtlsLinkLayer}, reading ice4j's component socket (which already keeps STUN checks and consent-freshness
 * traffic away from it). Datagrams from any other address (another pair that succeeded) are dropped and counted: the
 * link uses exactly this 5-tuple.
 */
final class IcePath implements LinkPath {
    private static final Logger LOG = LoggerFactory.getLogger(IcePath.class);
    private static final int RECEIVE_BUFFER = 65_535;
    /** The reader wakes up this often to notice a closed path (ice4j's component socket honours SO_TIMEOUT). */
    private static final int READ_WAKEUP_MILLIS = 250;
    /** The shortest first DTLS retransmission timeout a path asks for. */
    static final int MIN_RESEND_MILLIS = 200;

    /** Who opens the DTLS session over the path. */
    enum Opening {
        /** This side, at once, as the DTLS client: the ICE controlled side (it answered the Attach). */
        THIS_SIDE,
        /** The peer (this side waits for its ClientHello): the ICE controlling side. */
        PEER,
        /** Whichever side sends first (simultaneous opens are decided by the ClientHello randoms), for comparison. */
        FIRST_SENDER
    }

    private final DatagramSocket receiveSocket;
    private final IceSocketWrapper sendSocket;
    private final InetSocketAddress remote;
    private final int handshakeResendMillis;
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong foreign = new AtomicLong();
    private volatile boolean closed;

    /**
     * @param receiveSocket ice4j's component socket, which merges the datagrams of every local candidate
     * @param sendSocket    the socket of the pair's local candidate (its base)
     * @param rttMillis     a round trip estimate for the path (see {@link IceSession#rttEstimateMillis}), or -1
     */
    IcePath(DatagramSocket receiveSocket, IceSocketWrapper sendSocket, InetSocketAddress remote, long rttMillis) {
        this.receiveSocket = receiveSocket;
        this.sendSocket = sendSocket;
        this.remote = remote;
        this.handshakeResendMillis = resendFor(rttMillis);
    }

    /**
     * The first DTLS retransmission timeout for a round trip of {@code rttMillis}: twice it plus 100 ms for the
     * handshake's signing and key exchange on a loaded machine, at least {@value #MIN_RESEND_MILLIS} ms; 0 (the
     * layer's default) when unknown.
     */
    static int resendFor(long rttMillis) {
        return rttMillis <= 0 ? 0 : (int) Math.max(MIN_RESEND_MILLIS, Math.min(60_000, 2 * rttMillis + 100));
    }

    @Override
    public int handshakeResendMillis() {
        return handshakeResendMillis;
    }

    @Override
    public InetSocketAddress remote() {
        return remote;
    }

    /** Whether this path sends through {@code socket}. */
    boolean sendsThrough(IceSocketWrapper socket) {
        return sendSocket == socket;
    }

    @Override
    public void send(byte[] buf, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("ICE path to " + remote + " is closed");
        }
        sendSocket.send(new DatagramPacket(buf, off, len, remote));
    }

    /**
     * Attaches this path to {@code layer} and starts reading into it; {@code opening} says which side opens the DTLS
     * session over it ({@link DtlsLinkLayer#openOverPath}, {@link DtlsLinkLayer#attachPathForPeer}).
     */
    void start(DtlsLinkLayer layer, String name, Opening opening, long peerOpensWithinMillis) {
        try {
            receiveSocket.setSoTimeout(READ_WAKEUP_MILLIS);
        } catch (IOException e) {
            LOG.debug("ICE path to {}: cannot set the read timeout: {}", remote, e.toString());
        }
        switch (opening) {
            case THIS_SIDE -> layer.openOverPath(this);
            case PEER -> layer.attachPathForPeer(this, peerOpensWithinMillis);
            case FIRST_SENDER -> layer.attachPath(this);
        }
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
                receiveSocket.receive(p);
            } catch (SocketTimeoutException e) {
                continue;
            } catch (IOException e) {
                if (!closed) {
                    LOG.debug("ICE path to {}: receive failed, path ends: {}", remote, e.toString());
                    layer.detachPath(this);
                }
                return;
            }
            if (closed) {
                return; // a path that replaced this one reads the socket now; DTLS retransmits what this took
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
