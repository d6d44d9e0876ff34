package org.p2psip.node.api;

import java.util.concurrent.CompletableFuture;

/** A presence subscription made with {@link P2pSip#subscribePresence}; {@link #cancel} ends it. */
public final class PresenceWatch {
    private final String watcher;
    private final String presentity;
    private final PresenceWatches owner;
    private final String callId;

    PresenceWatch(String watcher, String presentity, PresenceWatches owner, String callId) {
        this.watcher = watcher;
        this.presentity = presentity;
        this.owner = owner;
        this.callId = callId;
    }

    /** The watching AOR. */
    public String watcher() {
        return watcher;
    }

    /** The watched AOR. */
    public String presentity() {
        return presentity;
    }

    /**
     * Unsubscribes (a SUBSCRIBE with {@code Expires: 0} in the dialog); the listener then gets a last notification
     * with {@code terminated} set. Completes with the notifier's answer; at once if the subscription had ended.
     */
    public CompletableFuture<Void> cancel() {
        return owner.cancel(callId);
    }
}
