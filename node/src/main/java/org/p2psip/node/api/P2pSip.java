package org.p2psip.node.api;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.p2psip.node.Peer;
import org.p2psip.node.event.PeerListener;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.sip.SipPeer;

/**
 * p2psip embedded at SIP level: a {@link Peer} with its SIP adapter, whose application is itself a user agent. It
 * registers AORs (signed contact records pointing at this peer's SIP address, refreshed until unregistered), looks
 * up contacts, sends MESSAGEs through the real SIP path (this peer's proxy, the DHT lookup, the callee's peer, or
 * offline storage), places, cancels and re-INVITEs calls, subscribes to presence, and receives the MESSAGEs and INVITEs addressed to its
 * AORs.
 *
 * <pre>{@code
 * P2pSip p2p = P2pSip.builder()
 *         .dataDir(Path.of("/var/lib/myapp/p2psip"))
 *         .bootstrap(new InetSocketAddress("192.0.2.10", 4222))
 *         .domain("example.net")
 *         .build().start().get();
 * p2p.onIncoming(m -> System.out.println(m.from() + ": " + m.text()));
 * p2p.register("sip:alice@example.net").get();
 * MessageResult r = p2p.sendMessage("sip:alice@example.net", "sip:bob@example.net", "text/plain", "hello").get();
 * }</pre>
 *
 * <p>Every operation is asynchronous: futures complete on SIP or DHT threads, listeners run one at a time on the
 * API's own event thread (do not block in them). A user's key is the one the registrar uses for that user's phones
 * ({@code <data-dir>/sip-keys}, else restored from its {@code private:} record when the {@code sip-users} file has an
 * account for it, else created with its certificate published), so a user may have phones and the application as
 * devices at once. Requests from the application reach the peer's proxy from the peer's own SIP socket, which the
 * proxy's per-source limits (offline messages per minute, presence subscriptions per address) exempt.
 *
 * <p>Role and link events come from the underlying peer: {@link #addListener}, {@link Builder#listener} (the
 * {@code org.p2psip.node.event} family).
 */
public final class P2pSip implements AutoCloseable {
    /** The registration lifetime used unless {@link Builder#registrationLifetime} says otherwise. */
    public static final Duration DEFAULT_LIFETIME = Duration.ofHours(1);
    /** The presence subscription duration asked for (the notifier may grant less; refreshed at two thirds). */
    public static final long PRESENCE_SECONDS = 3600;

    private final Peer peer;
    private final Duration lifetime;
    private volatile SipEndpoint endpoint;

    private P2pSip(Peer peer, Duration lifetime) {
        this.peer = peer;
        this.lifetime = lifetime;
    }

    /** A builder with the defaults of {@link Peer#builder()} and SIP on port 5060. */
    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link P2pSip}; every setting has a default. */
    public static final class Builder {
        private final Peer.Builder peer = Peer.builder();
        private SipOptions sip = SipOptions.defaults();
        private Duration lifetime = DEFAULT_LIFETIME;
        private final List<PeerListener> listeners = new java.util.ArrayList<>();

        private Builder() {
        }

        /** A listener for the peer's role and link events, added before the start so it sees every event. */
        public Builder listener(PeerListener listener) {
            listeners.add(Objects.requireNonNull(listener, "listener"));
            return this;
        }

        /** The data directory: node key, records, {@code sip-keys}, {@code sip-users}. Default {@code ~/.p2psip}. */
        public Builder dataDir(Path dir) {
            peer.dataDir(dir);
            return this;
        }

        /** Nodes of an existing overlay to join; none starts a new overlay. */
        public Builder bootstrap(InetSocketAddress... nodes) {
            peer.bootstrap(nodes);
            return this;
        }

        /** The overlay's UDP port (0: a free one). Default {@link Peer#DEFAULT_PORT}. */
        public Builder port(int port) {
            peer.port(port);
            return this;
        }

        /** The address the overlay and SIP bind to. */
        public Builder bindAddress(InetAddress address) {
            peer.bindAddress(address);
            return this;
        }

        /** The SIP port, UDP and TCP (0: a free one). Default 5060. */
        public Builder sipPort(int port) {
            if (port < 0) {
                throw new IllegalArgumentException("the embedded API needs SIP: give a port of 0..65535, not " + port);
            }
            sip = sip.withPort(port);
            return this;
        }

        /** The SIP domains the overlay serves (AORs in them are looked up in the DHT). */
        public Builder domain(String... domains) {
            sip = sip.withDomains(List.of(domains));
            return this;
        }

        /** All SIP settings at once (port, domains, realm, accounts file, digest algorithms, key cost). */
        public Builder sip(SipOptions options) {
            if (!options.enabled()) {
                throw new IllegalArgumentException("the embedded API needs SIP: give a port of 0..65535");
            }
            sip = options;
            return this;
        }

        /** How long each registration's record lives; it is refreshed at two thirds of it. Default 1 hour. */
        public Builder registrationLifetime(Duration d) {
            if (d.toSeconds() < 1) {
                throw new IllegalArgumentException("a registration lasts at least 1 s, not " + d);
            }
            lifetime = d;
            return this;
        }

        /** Any other setting of the underlying peer (control, XML-RPC and metrics ports, overlay config...). */
        public Builder peer(Consumer<Peer.Builder> settings) {
            settings.accept(peer);
            return this;
        }

        /** The configured, not yet started instance. */
        public P2pSip build() {
            Peer p = peer.sip(sip).build();
            listeners.forEach(p::addListener);
            return new P2pSip(p, lifetime);
        }
    }

    /**
     * Starts the peer and its SIP adapter.
     *
     * @return completes with this instance once the peer has joined the overlay and SIP is listening; fails as
     *         {@link Peer#start()} does
     */
    public CompletableFuture<P2pSip> start() {
        return peer.start().thenApply(p -> {
            SipPeer sip = p.sip();
            if (sip == null) {
                throw new IllegalStateException("the peer started without SIP; the embedded API needs it");
            }
            SipEndpoint ep = new SipEndpoint(sip);
            sip.proxy().localEndpoint(ep);
            endpoint = ep;
            return this;
        });
    }

    private SipEndpoint ep() {
        SipEndpoint ep = endpoint;
        if (ep == null) {
            throw new IllegalStateException("P2pSip is not started (call start() and wait for it) or is closed");
        }
        return ep;
    }

    /**
     * Registers {@code aor} with this application as its user agent: a contact record signed with the user's key,
     * Contact {@code <sip:user@this-peer's-SIP-address>}, refreshed before expiry until {@link #unregister}. Several
     * AORs may be registered at once. Messages left offline for the AOR are delivered to {@link #onIncoming} right
     * after.
     *
     * @param aor {@code sip:alice@example.net} (or {@code alice@example.net})
     * @return completes once the record is stored
     * @throws IllegalArgumentException when {@code aor} is no SIP address of record
     */
    public CompletableFuture<Registration> register(String aor) {
        return ep().register(aor, lifetime);
    }

    /** Like {@link #register(String)} with this record lifetime. */
    public CompletableFuture<Registration> register(String aor, Duration lifetime) {
        return ep().register(aor, lifetime);
    }

    /** Removes this application's contact record of {@code aor} and stops refreshing it; a no-op if not registered. */
    public CompletableFuture<Void> unregister(String aor) {
        return ep().unregister(aor);
    }

    /** The AORs registered through this instance. */
    public List<String> registrations() {
        return ep().registeredAors();
    }

    /** The live, verified contacts of {@code aor} in the DHT, from every peer (phones and applications). */
    public CompletableFuture<List<ContactInfo>> lookup(String aor) {
        return ep().lookup(aor);
    }

    /**
     * Sends a MESSAGE from {@code from} to {@code to} through this peer's SIP proxy: the callee's contacts are looked
     * up in the DHT and the request is forwarded to their peers; with no live contact it is stored encrypted for the
     * callee's next registration (202).
     *
     * @return completes with the final response; fails if the proxy did not answer within 64*T1
     * @throws IllegalArgumentException for an address that is no AOR or a content type without {@code /}
     */
    public CompletableFuture<MessageResult> sendMessage(String from, String to, String contentType, String body) {
        return ep().sendMessage(from, to, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** Like {@link #sendMessage(String, String, String, String)} with a binary body. */
    public CompletableFuture<MessageResult> sendMessage(String from, String to, String contentType, byte[] body) {
        return ep().sendMessage(from, to, contentType, body.clone());
    }

    /**
     * Calls {@code to} from {@code from}: an INVITE with {@code offer} (e.g. SDP) through this peer's proxy, routed
     * like a phone's (DHT lookup, forking to the callee's devices). The application is the caller's user agent:
     * the callee's answer is acknowledged (every retransmission of it too), and the call ends with
     * {@link OutgoingCall#hangup} or the callee's BYE. The same as {@code dial(...).answered()}; use {@link #dial}
     * to see it ring or to cancel it.
     *
     * @return completes with the established call (after the ACK is sent); fails with a
     *         {@link CallRefusedException} for a final non-2xx response (404, 480, 486, 603...; the proxy's Timer C
     *         turns a call ringing unanswered for 3 minutes into 408), or when this peer's proxy did not answer
     * @throws IllegalArgumentException for an address that is no AOR, or an offer without a content type
     */
    public CompletableFuture<OutgoingCall> call(String from, String to, String contentType, String offer) {
        return dial(from, to, contentType, offer).answered();
    }

    /**
     * Places a call as {@link #call} does, returned at once as an attempt that may ring
     * ({@link CallAttempt#ringing()}), be answered ({@link CallAttempt#answered()}) or be cancelled before that
     * ({@link CallAttempt#cancel()}: CANCEL, answered by 487 to the INVITE).
     *
     * @throws IllegalArgumentException for an address that is no AOR, or an offer without a content type
     */
    public CallAttempt dial(String from, String to, String contentType, String offer) {
        return ep().dial(from, to, contentType, offer);
    }

    /**
     * Subscribes {@code watcher} to the presence of {@code presentity} (SUBSCRIBE/NOTIFY with PIDF through this
     * peer's presence agent, which stores the encrypted watcher record and follows the presentity's contact records
     * in the DHT). The listener gets the current status at once, then each change (open when the presentity has a
     * live contact, closed otherwise) until {@link PresenceWatch#cancel}.
     *
     * @return completes once the subscription is accepted; fails with the notifier's refusal
     */
    public CompletableFuture<PresenceWatch> subscribePresence(String watcher, String presentity,
            PresenceListener listener) {
        return ep().presence.subscribe(watcher, presentity, Objects.requireNonNull(listener, "listener"),
                PRESENCE_SECONDS);
    }

    /**
     * Sets the listener for MESSAGEs and INVITEs addressed to AORs registered through this instance (replacing the
     * previous one; null: such requests get 480).
     */
    public void onIncoming(IncomingListener listener) {
        ep().onIncoming(listener);
    }

    /**
     * Adds a listener for the peer's role and link events ({@code RoleChanged}, {@code LinkUp}, {@code LinkDown} of
     * {@link org.p2psip.node.event.PeerEvent}), delivered in order on the peer's event thread; the same as
     * {@code peer().addListener}. {@link Builder#listener} adds one before the start.
     */
    public void addListener(PeerListener listener) {
        peer.addListener(listener);
    }

    /** Removes a listener added with {@link #addListener} or {@link Builder#listener}. */
    public void removeListener(PeerListener listener) {
        peer.removeListener(listener);
    }

    /** This peer's SIP address (UDP and TCP), where its Contacts point. */
    public InetSocketAddress sipAddress() {
        return ep().sip.localAddress();
    }

    /**
     * The underlying peer, for advanced use: its {@link Peer#dht()}, status, metrics, and its events (role, site
     * and link changes).
     */
    public Peer peer() {
        return peer;
    }

    /** Unregisters every AOR (waiting up to 3 s), cancels subscriptions and stops the peer. */
    @Override
    public void close() {
        SipEndpoint ep = endpoint;
        endpoint = null;
        if (ep != null) {
            ep.close();
        }
        peer.close();
    }
}
