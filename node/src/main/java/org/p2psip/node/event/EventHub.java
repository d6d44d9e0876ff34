package org.p2psip.node.event;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a peer's events to its listeners on one thread of its own, in the order they were published, so a slow
 * listener never stalls the network threads that publish them. A listener that throws is logged and kept.
 */
public final class EventHub implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventHub.class);

    private final List<PeerListener> listeners = new CopyOnWriteArrayList<>();
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "p2psip-events");
        t.setDaemon(true);
        return t;
    });

    public void add(PeerListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void remove(PeerListener listener) {
        listeners.remove(listener);
    }

    /** Queues {@code event} for every listener; any thread. Dropped once the hub is closed. */
    public void publish(PeerEvent event) {
        try {
            thread.execute(() -> {
                for (PeerListener l : listeners) {
                    try {
                        l.onEvent(event);
                    } catch (RuntimeException e) {
                        LOG.warn("a peer listener threw {} on {}", e.toString(), event, e);
                    }
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("event after close dropped: {}", event);
        }
    }

    /** Delivers what is queued, then stops the event thread. */
    @Override
    public void close() {
        thread.shutdown();
    }
}
