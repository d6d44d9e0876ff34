package org.p2psip.node.event;

import io.netty.channel.EventLoopGroup;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;

/**
 * Publishes {@link LinkKind#OVERLAY} link events: every interval it reads the routing table of the overlay node the
 * peer runs now (none as a leaf) and reports the neighbours that came and went since the last look. A neighbour that
 * comes and goes within one interval is not seen.
 */
public final class OverlayLinkWatch implements AutoCloseable {
    private final Supplier<OverlayNode> node;
    private final Consumer<PeerEvent> events;
    private final Set<NodeId> known = new HashSet<>();
    private final ScheduledFuture<?> task;
    private volatile boolean closed;
    private boolean busy;

    private OverlayLinkWatch(EventLoopGroup group, Supplier<OverlayNode> node, Consumer<PeerEvent> events, long millis) {
        this.node = node;
        this.events = events;
        this.task = group.next().scheduleWithFixedDelay(this::look, millis, millis, TimeUnit.MILLISECONDS);
    }

    /** Watches {@code node} (the current overlay node, null when none) every {@code millis} on {@code group}. */
    public static OverlayLinkWatch start(EventLoopGroup group, Supplier<OverlayNode> node, Consumer<PeerEvent> events,
                                         long millis) {
        return new OverlayLinkWatch(group, node, events, millis);
    }

    private synchronized void look() {
        if (closed || busy) {
            return;
        }
        OverlayNode n = node.get();
        if (n == null) {
            update(List.of());
            return;
        }
        busy = true;
        n.neighbours().orTimeout(5, TimeUnit.SECONDS).whenComplete((contacts, e) -> {
            synchronized (this) {
                busy = false;
                if (e == null && !closed) {
                    update(contacts);
                }
            }
        });
    }

    private void update(List<Contact> contacts) {
        Set<NodeId> now = new HashSet<>();
        contacts.forEach(c -> now.add(c.id()));
        for (NodeId gone : List.copyOf(known)) {
            if (!now.contains(gone)) {
                known.remove(gone);
                events.accept(new PeerEvent.LinkDown(gone, LinkKind.OVERLAY));
            }
        }
        for (NodeId id : now) {
            if (known.add(id)) {
                events.accept(new PeerEvent.LinkUp(id, LinkKind.OVERLAY));
            }
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        task.cancel(false);
    }
}
