package org.p2psip.nat.dtls;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.bouncycastle.tls.DatagramTransport;

/**
 * Bouncy Castle's view of one peer on the shared UDP channel (or on the peer's {@link LinkPath}). The event loop
 * feeds it the datagrams from that peer through a bounded queue; it sends through the layer's {@link DatagramOut}.
 *
 * <p>Two modes. During the handshake a thread of the handshake executor owns it and {@link #receive} blocks on
 * the queue, as Bouncy Castle's blocking handshake expects. Once the session is established the event loop
 * owns it: it queues a datagram and at once asks the DTLS transport to decrypt, and {@code receive} never blocks:
 * with nothing queued it throws {@link WouldBlock}, an {@link InterruptedIOException} that Bouncy Castle passes
 * through without failing the session (a {@code SocketTimeoutException} would make it loop until its wait ends).
 *
 * <p>For a client attempt it also remembers the random of the ClientHello it sent, which decides a simultaneous
 * open: see {@link #yieldTo(byte[])}.
 */
final class PeerTransport implements DatagramTransport {
    /** Thrown by {@link #receive} in non-blocking mode when no datagram is queued. Shared; no stack trace. */
    static final class WouldBlock extends InterruptedIOException {
        private static final long serialVersionUID = 1L;
        static final WouldBlock INSTANCE = new WouldBlock();

        private WouldBlock() {
            super("no datagram queued");
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }

    private static final byte[] WAKE_UP = new byte[0];

    final InetSocketAddress remote;
    final boolean client;
    private final DatagramOut out;
    private final int mtu;
    private final int receiveLimit;
    private final ArrayBlockingQueue<byte[]> inbound;
    private final Consumer<PeerTransport> onClose;
    private volatile boolean nonBlocking;
    /** Client attempt: a ServerHello arrived (until then only HelloVerifyRequest and ServerHello records are let in). */
    boolean serverSeen;
    private volatile boolean closed;
    /** Guards {@link #ownRandom} and {@link #yielded} between the handshake thread and the event loop. */
    private final Object lock = new Object();
    private byte[] ownRandom;
    private boolean yielded;

    /** Where records to a remote address go: the layer's socket, or an attached {@link LinkPath}. */
    @FunctionalInterface
    interface DatagramOut {
        void send(InetSocketAddress to, byte[] buf, int off, int len);
    }

    PeerTransport(DatagramOut out, InetSocketAddress remote, boolean client, int mtu, int receiveLimit, int queue,
            Consumer<PeerTransport> onClose) {
        this.out = out;
        this.remote = remote;
        this.client = client;
        this.mtu = mtu;
        this.receiveLimit = receiveLimit;
        this.inbound = new ArrayBlockingQueue<>(queue);
        this.onClose = onClose;
    }

    /** Queues a datagram from the peer; false when the queue is full (the caller counts the drop). */
    boolean offer(byte[] datagram) {
        return !closed && inbound.offer(datagram);
    }

    /** Hands the transport to the event loop: from now on {@link #receive} does not block. */
    void established() {
        nonBlocking = true;
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * Decides a simultaneous open on the event loop, when the peer's ClientHello with {@code theirRandom} arrives
     * while this client attempt runs. The side whose ClientHello random is higher stays the client. A side that has
     * not sent its ClientHello yet yields too, and never sends it: so both sides decide on the same two randoms, or
     * only one ClientHello exists. Returns true when this side yields (its attempt must be abandoned).
     */
    boolean yieldTo(byte[] theirRandom) {
        synchronized (lock) {
            if (ownRandom == null || Arrays.compareUnsigned(ownRandom, theirRandom) < 0) {
                yielded = true;
                return true;
            }
            return false;
        }
    }

    @Override
    public int getReceiveLimit() {
        return receiveLimit;
    }

    @Override
    public int getSendLimit() {
        return mtu;
    }

    @Override
    public int receive(byte[] buf, int off, int len, int waitMillis) throws IOException {
        byte[] d;
        if (nonBlocking) {
            d = inbound.poll();
            if (d == null || d == WAKE_UP) {
                throw WouldBlock.INSTANCE;
            }
        } else {
            if (closed) {
                throw new IOException("DTLS attempt with " + remote + " abandoned");
            }
            try {
                d = inbound.poll(Math.max(1, waitMillis), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("DTLS handshake with " + remote + " interrupted");
            }
            if (closed) {
                throw new IOException("DTLS attempt with " + remote + " abandoned");
            }
            if (d == null || d == WAKE_UP) {
                return -1;
            }
        }
        if (d.length > len) {
            return d.length; // larger than the buffer: Bouncy Castle discards it
        }
        System.arraycopy(d, 0, buf, off, d.length);
        return d.length;
    }

    @Override
    public void send(byte[] buf, int off, int len) throws IOException {
        if (closed) {
            return;
        }
        if (client && !nonBlocking) {
            synchronized (lock) {
                if (yielded) {
                    return;
                }
                if (ownRandom == null) {
                    ownRandom = Records.clientHelloRandom(Arrays.copyOfRange(buf, off, off + len), len);
                }
            }
        }
        if (len > mtu) {
            throw new IOException("record of " + len + " bytes exceeds the MTU " + mtu);
        }
        out.send(remote, buf, off, len);
    }

    /** Called by Bouncy Castle when the session ends (close_notify, fatal alert, failure) and by this layer. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            inbound.clear();
            inbound.offer(WAKE_UP);
            onClose.accept(this);
        }
    }

    /** Marks the transport closed without telling the layer (the layer already forgot it); further sends are dropped. */
    void abandon() {
        if (!closed) {
            closed = true;
            inbound.clear();
            inbound.offer(WAKE_UP);
        }
    }
}
