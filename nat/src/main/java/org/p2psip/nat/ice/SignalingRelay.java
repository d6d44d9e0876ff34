package org.p2psip.nat.ice;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.p2psip.overlay.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A rendezvous relay for Attach messages over TCP, for nodes that have no overlay route to each other yet (and for
 * the NAT lab, where it runs on the public segment). Each node connects, sends a hello frame with its node id, and
 * then sends and receives {@link AttachCodec} frames; the relay forwards each frame to the connection of its
 * {@code to} id, and answers a request for an id it does not know with a refusal. A frame whose {@code from} is not
 * the connection's id, or that does not decode, is dropped and counted. The relay is not trusted: the DTLS handshake
 * on the link authenticates the peer.
 */
public final class SignalingRelay implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SignalingRelay.class);
    private static final int MAX_CONNECTIONS = 256;
    private static final int HELLO_TIMEOUT_MILLIS = 5_000;

    private final ServerSocket server;
    private final ConcurrentHashMap<NodeId, DataOutputStream> clients = new ConcurrentHashMap<>();
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;

    private SignalingRelay(ServerSocket server) {
        this.server = server;
    }

    /** Listens on {@code address} (port 0 picks one) and serves until closed. */
    public static SignalingRelay start(InetSocketAddress address) throws IOException {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(address);
        SignalingRelay relay = new SignalingRelay(s);
        Thread t = new Thread(relay::acceptLoop, "signaling-relay-accept");
        t.setDaemon(true);
        t.start();
        return relay;
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Whether {@code id} has a connection (its hello was read). */
    public boolean isConnected(NodeId id) {
        return clients.containsKey(id);
    }

    public long forwarded() {
        return forwarded.get();
    }

    /** Frames dropped: undecodable, a forged {@code from}, or for a vanished connection. */
    public long dropped() {
        return dropped.get();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("signaling relay: accept failed: {}", e.toString());
                }
                return;
            }
            if (connections.incrementAndGet() > MAX_CONNECTIONS) {
                connections.decrementAndGet();
                LOG.warn("signaling relay: {} connections already; refusing {}", MAX_CONNECTIONS, s.getRemoteSocketAddress());
                closeQuietly(s);
                continue;
            }
            Thread t = new Thread(() -> serve(s), "signaling-relay-" + s.getRemoteSocketAddress());
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s) {
        NodeId id = null;
        DataOutputStream out = null;
        try (s) {
            s.setTcpNoDelay(true);
            s.setSoTimeout(HELLO_TIMEOUT_MILLIS);
            DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
            out = new DataOutputStream(new BufferedOutputStream(s.getOutputStream()));
            byte[] hello = Frames.read(in);
            if (hello.length != NodeId.BYTES) {
                throw new IOException("hello of " + hello.length + " bytes is not a node id");
            }
            id = NodeId.of(hello);
            s.setSoTimeout(0);
            DataOutputStream old = clients.put(id, out);
            if (old != null) {
                LOG.info("signaling relay: {} reconnected; the old connection is replaced", id.shortHex());
            }
            LOG.debug("signaling relay: {} connected from {}", id.shortHex(), s.getRemoteSocketAddress());
            while (!closed) {
                byte[] frame = Frames.read(in);
                forward(id, frame, out);
            }
        } catch (IOException e) {
            LOG.debug("signaling relay: connection {} ended: {}", id == null ? s.getRemoteSocketAddress() : id.shortHex(),
                    e.toString());
        } finally {
            if (id != null) {
                clients.remove(id, out);
            }
            connections.decrementAndGet();
        }
    }

    private void forward(NodeId sender, byte[] frame, DataOutputStream senderOut) throws IOException {
        AttachMessage m;
        try {
            m = AttachCodec.decode(frame);
        } catch (AttachFormatException e) {
            dropped.incrementAndGet();
            LOG.debug("signaling relay: dropped a frame from {}: {}", sender.shortHex(), e.getMessage());
            return;
        }
        if (!m.from().equals(sender)) {
            dropped.incrementAndGet();
            LOG.debug("signaling relay: {} sent a frame claiming to be from {}; dropped", sender.shortHex(), m.from().shortHex());
            return;
        }
        DataOutputStream target = clients.get(m.to());
        if (target == null) {
            dropped.incrementAndGet();
            if (m instanceof AttachMessage.Request r) {
                Frames.write(senderOut, AttachCodec.encode(new AttachMessage.Refused(r.to(), r.from(), r.transaction(),
                        "node " + r.to().shortHex() + " is not connected to the signaling relay")));
            }
            return;
        }
        try {
            Frames.write(target, frame);
            forwarded.incrementAndGet();
        } catch (IOException e) {
            dropped.incrementAndGet();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // ignore
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // ignore
        }
    }
}
