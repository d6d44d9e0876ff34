package org.p2psip.nat.ice;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.p2psip.overlay.NodeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Signaling} through a {@link SignalingRelay}: one TCP connection, Attach frames both ways. */
public final class RelaySignaling implements Signaling {
    private static final Logger LOG = LoggerFactory.getLogger(RelaySignaling.class);

    private final NodeId self;
    private final Socket socket;
    private final DataOutputStream out;
    private final ConcurrentHashMap<Long, CompletableFuture<AttachMessage>> pending = new ConcurrentHashMap<>();
    private volatile Handler handler = r -> CompletableFuture.completedFuture(
            new AttachMessage.Refused(r.to(), r.from(), r.transaction(), "this node accepts no Attach requests"));
    private volatile java.util.function.Consumer<AttachMessage.Candidates> candidates = c -> { };
    private volatile boolean closed;

    private RelaySignaling(NodeId self, Socket socket) throws IOException {
        this.self = self;
        this.socket = socket;
        this.out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
    }

    /** Connects to the relay at {@code relay} as {@code self}. */
    public static RelaySignaling connect(NodeId self, InetSocketAddress relay, int timeoutMillis) throws IOException {
        Socket s = new Socket();
        try {
            s.setTcpNoDelay(true);
            s.connect(relay, timeoutMillis);
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot reach the signaling relay " + relay + ": " + e.getMessage()
                    + " (is it running and reachable from this network?)", e);
        }
        RelaySignaling r = new RelaySignaling(self, s);
        Frames.write(r.out, self.toBytes());
        DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
        Thread t = new Thread(() -> r.readLoop(in), "signaling-" + self.shortHex());
        t.setDaemon(true);
        t.start();
        return r;
    }

    @Override
    public CompletableFuture<AttachMessage> attach(AttachMessage.Request request) {
        CompletableFuture<AttachMessage> f = new CompletableFuture<>();
        pending.put(request.transaction(), f);
        f.whenComplete((m, e) -> pending.remove(request.transaction(), f));
        try {
            Frames.write(out, AttachCodec.encode(request));
        } catch (IOException e) {
            f.completeExceptionally(new IOException("signaling relay connection failed: " + e.getMessage(), e));
        }
        return f;
    }

    @Override
    public void serve(Handler handler) {
        this.handler = handler;
    }

    @Override
    public boolean supportsTrickle() {
        return true;
    }

    @Override
    public void trickle(AttachMessage.Candidates m) {
        try {
            Frames.write(out, AttachCodec.encode(m));
        } catch (IOException e) {
            LOG.debug("{}: could not send trickled candidates: {}", this, e.toString());
        }
    }

    @Override
    public void onCandidates(java.util.function.Consumer<AttachMessage.Candidates> listener) {
        this.candidates = listener;
    }

    private void readLoop(DataInputStream in) {
        try {
            while (!closed) {
                byte[] frame = Frames.read(in);
                AttachMessage m;
                try {
                    m = AttachCodec.decode(frame);
                } catch (AttachFormatException e) {
                    LOG.debug("{}: dropped a malformed attach frame: {}", this, e.getMessage());
                    continue;
                }
                if (!m.to().equals(self)) {
                    continue;
                }
                if (m instanceof AttachMessage.Request r) {
                    CompletableFuture<AttachMessage> pending;
                    try {
                        pending = handler.onRequest(r);
                    } catch (RuntimeException e) {
                        pending = CompletableFuture.failedFuture(e);
                    }
                    pending.whenComplete((answer, e) -> {
                        AttachMessage reply = answer != null ? answer : new AttachMessage.Refused(self, r.from(),
                                r.transaction(), "attach failed here: " + e);
                        try {
                            Frames.write(out, AttachCodec.encode(reply));
                        } catch (IOException io) {
                            LOG.debug("{}: could not send the attach answer: {}", this, io.toString());
                        }
                    });
                } else if (m instanceof AttachMessage.Candidates c) {
                    try {
                        candidates.accept(c);
                    } catch (RuntimeException e) {
                        LOG.debug("{}: the candidates listener failed: {}", this, e.toString());
                    }
                } else {
                    complete(m);
                }
            }
        } catch (IOException e) {
            if (!closed) {
                LOG.warn("{}: signaling relay connection lost: {}", this, e.toString());
            }
        } finally {
            IOException lost = new IOException("signaling relay connection closed");
            pending.values().forEach(f -> f.completeExceptionally(lost));
        }
    }

    private void complete(AttachMessage m) {
        CompletableFuture<AttachMessage> f = pending.get(m.transaction());
        if (f != null) {
            f.complete(m);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException e) {
            // ignore
        }
    }

    @Override
    public String toString() {
        return "RelaySignaling[" + self.shortHex() + "]";
    }
}
