package org.p2psip.sip;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.p2psip.overlay.Dht;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.offline.OfflineMessaging;
import org.p2psip.sip.overlay.OverlayRelay;
import org.p2psip.sip.overlay.SipOverlay;
import java.util.concurrent.CompletableFuture;
import org.p2psip.sip.presence.PresenceAgent;
import org.p2psip.sip.registrar.ContactBinding;
import org.p2psip.sip.registrar.RegistrationListener;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.ua.UserAgentClient;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.identity.CachingReadCheck;
import org.p2psip.sip.identity.UserIdentities;
import org.p2psip.sip.proxy.Proxy;
import org.p2psip.sip.registrar.ContactStore;
import org.p2psip.sip.registrar.Credentials;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.sip.registrar.Registrar;
import org.p2psip.sip.registrar.SignedContactStore;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TimerConfig;
import org.p2psip.sip.transaction.TransactionUser;
import org.p2psip.sip.transport.SipTls;
import org.p2psip.sip.dns.DnsSettings;
import org.p2psip.sip.dns.DomainRouting;
import org.p2psip.sip.dns.SipDnsResolver;
import org.p2psip.sip.transport.SipTransport;
import org.p2psip.sip.transport.Source;

/**
 * A peer's SIP side: the stack, the registrar for its local phones and the proxy, on top of a {@link Dht}. Phones
 * use it as registrar and outbound proxy.
 */
public final class SipPeer implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SipPeer.class);
    /**
     * @param domains    the SIP domains the overlay serves (AORs in them are looked up in the DHT)
     * @param algorithms digest algorithms offered, in order of preference
     * @param timerCMillis the proxy's Timer C: how long a forwarded INVITE may ring unanswered
     */
    public record Config(InetSocketAddress bind, Set<String> domains, String realm, Credentials accounts,
            List<String> algorithms, Registrar.Expiry expiry, TimerConfig timers, long timerCMillis, Path dataDir,
            PrivateKeyRecord.KdfParams keyKdf, PresenceAgent.Expiry presenceExpiry, double refreshStoreFraction,
            SipTls tls, DnsSettings dns, boolean refreshChains) {
        public static Config of(InetSocketAddress bind, String domain, Credentials accounts) {
            return new Config(bind, Set.of(domain), domain, accounts, DigestAuthenticator.DEFAULT_ALGORITHMS,
                    Registrar.Expiry.DEFAULT, TimerConfig.DEFAULT, Proxy.DEFAULT_TIMER_C_MS, null,
                    PrivateKeyRecord.KdfParams.DEFAULT, PresenceAgent.Expiry.DEFAULT,
                    SignedContactStore.DEFAULT_REFRESH_STORE_FRACTION, null, null, true);
        }

        public Config withAlgorithms(List<String> a) {
            return new Config(bind, domains, realm, accounts, a, expiry, timers, timerCMillis, dataDir, keyKdf,
                    presenceExpiry, refreshStoreFraction, tls, dns, refreshChains);
        }

        public Config withTimerC(long millis) {
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, millis, dataDir, keyKdf,
                    presenceExpiry, refreshStoreFraction, tls, dns, refreshChains);
        }

        /** The node's data directory: users' keys are kept in its {@code sip-keys} subdirectory. */
        public Config withDataDir(Path dir) {
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, timerCMillis, dir, keyKdf,
                    presenceExpiry, refreshStoreFraction, tls, dns, refreshChains);
        }

        /** The Argon2id cost of the users' {@code private:} records (tests lower it). */
        public Config withKeyKdf(PrivateKeyRecord.KdfParams kdf) {
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, timerCMillis, dataDir, kdf,
                    presenceExpiry, refreshStoreFraction, tls, dns, refreshChains);
        }

        /** The registrar's expiry policy (tests shorten it). */
        public Config withExpiry(Registrar.Expiry e) {
            return new Config(bind, domains, realm, accounts, algorithms, e, timers, timerCMillis, dataDir, keyKdf,
                    presenceExpiry, refreshStoreFraction, tls, dns, refreshChains);
        }

        /** The presence subscriptions' expiry policy (tests shorten it). */
        public Config withPresenceExpiry(PresenceAgent.Expiry e) {
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, timerCMillis, dataDir,
                    keyKdf, e, refreshStoreFraction, tls, dns, refreshChains);
        }

        /**
         * A refresh of an unchanged binding is stored again (re-signed, re-put) only when it extends the stored
         * record's expiry by at least this fraction of the requested interval; an earlier refresh is answered with the
         * stored record's remaining time (RFC 3261 §10.3: the registrar may shorten the interval). 0 stores every
         * REGISTER.
         */
        public Config withRefreshStoreFraction(double f) {
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException("refresh store fraction " + f + " is not within 0..1");
            }
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, timerCMillis, dataDir, keyKdf,
                    presenceExpiry, f, tls, dns, refreshChains);
        }

        /**
         * Whether a binding's signed record carries a refresh chain (default), so that a refresh that extends it is
         * stored as the chain's next token, checked by hashing at every replica, instead of a new signature that every
         * replica verifies (storage README, "Refresh chains"). false signs every stored refresh.
         */
        public Config withRefreshChains(boolean on) {
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, timerCMillis, dataDir, keyKdf,
                    presenceExpiry, refreshStoreFraction, tls, dns, on);
        }

        /** Also SIP over TLS ({@code sips:}, {@code transport=tls}) on {@code t.port()}, with its certificate. */
        public Config withTls(SipTls t) {
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, timerCMillis, dataDir, keyKdf,
                    presenceExpiry, refreshStoreFraction, t, dns, refreshChains);
        }

        /**
         * Routes requests for other domains by RFC 3263 DNS (for local users who authenticate with digest, 407), in
         * the per-domain order of {@code d.routing()}; null: requests for other domains get 404.
         */
        public Config withDns(DnsSettings d) {
            return new Config(bind, domains, realm, accounts, algorithms, expiry, timers, timerCMillis, dataDir, keyKdf,
                    presenceExpiry, refreshStoreFraction, tls, d, refreshChains);
        }

        /** The domains served and the realm (the first domain is the default realm). */
        public Config withDomains(Set<String> served, String digestRealm) {
            if (served.isEmpty()) {
                throw new IllegalArgumentException("a SIP peer serves at least one domain");
            }
            Set<String> lower = new java.util.LinkedHashSet<>();
            for (String d : served) {
                lower.add(d.toLowerCase(java.util.Locale.ROOT));
            }
            return new Config(bind, Set.copyOf(lower), digestRealm, accounts, algorithms, expiry, timers,
                    timerCMillis, dataDir, keyKdf, presenceExpiry, refreshStoreFraction, tls, dns, refreshChains);
        }

        /**
         * The secret of a local user's {@code private:} record by full name ({@code bob@example.net}), for users of
         * the served domains ({@link Credentials#recordSecret}).
         */
        Optional<String> passwordOf(String user) {
            int at = user.lastIndexOf('@');
            if (at <= 0 || !domains.contains(user.substring(at + 1).toLowerCase(java.util.Locale.ROOT))) {
                return Optional.empty();
            }
            return accounts.recordSecret(user.substring(0, at), realm);
        }
    }

    private final SipStack stack;
    private final Registrar registrar;
    private final Proxy proxy;

    private final AutoCloseable resources;

    private final OfflineMessaging offline;

    private final PresenceAgent presence;

    private final ContactStore contacts;

    private SipPeer(SipStack stack, Registrar registrar, Proxy proxy, OfflineMessaging offline,
            PresenceAgent presence, ContactStore contacts, AutoCloseable resources) {
        this.contacts = contacts;
        this.offline = offline;
        this.presence = presence;
        this.stack = stack;
        this.registrar = registrar;
        this.proxy = proxy;
        this.resources = resources;
    }

    /**
     * Starts a peer whose bindings are signed contact records in {@code dht} ({@link SignedContactStore}), signed
     * with each local user's key ({@link UserIdentities}: kept in {@code <dataDir>/sip-keys}, shared between peers
     * through the user's password-encrypted {@code private:} record).
     */
    public static SipPeer start(Config config, Dht dht) throws IOException {
        return start(config, dht, null);
    }

    /**
     * As {@link #start(Config, Dht)}, and carries SIP over the overlay ({@link OverlayRelay}) to peers of other sites
     * whose addresses are not reachable from here; this peer's URIs name its {@link SipOverlay#location()}.
     */
    public static SipPeer start(Config config, Dht dht, SipOverlay overlay) throws IOException {
        return start(config, dht, overlay, null);
    }

    /**
     * As {@link #start(Config, Dht, SipOverlay)}; the records this peer signs are remembered in {@code signedHere}, so
     * the local overlay node's verifier, built with the same instance
     * ({@code SignedRecordPolicy.tofu(owners, signedHere)}), does not re-check them, and this peer's reads (the
     * registrar's read-back for the 200) do not verify again a record whose bytes are equal to one it signed.
     */
    public static SipPeer start(Config config, Dht dht, SipOverlay overlay,
            org.p2psip.storage.LocallySigned signedHere) throws IOException {
        // readers verify each record once: the proxy and the registrar re-read the same contacts constantly
        DraftDht draft = new DraftDht(dht, System::currentTimeMillis, DraftDht.Options.defaults(),
                new CachingReadCheck(CachingReadCheck.DEFAULT_ENTRIES, signedHere), signedHere);
        UserIdentities ids = new UserIdentities(draft,
                config.dataDir() == null ? null : config.dataDir().resolve("sip-keys"), config::passwordOf,
                config.keyKdf(), System::currentTimeMillis);
        try {
            return start(config, new SignedContactStore(draft, ids, System::currentTimeMillis,
                    config.refreshStoreFraction(), config.refreshChains()), draft, ids, overlay);
        } catch (IOException | RuntimeException e) {
            ids.close();
            throw e;
        }
    }

    /** Starts a peer over any binding store: registrar and proxy only, no offline messages or presence. */
    public static SipPeer start(Config config, ContactStore store) throws IOException {
        return start(config, store, null, null, null);
    }

    /** With {@code draft} and {@code ids} (signed records), also offline messages; without, only registrar and proxy. */
    private static SipPeer start(Config config, ContactStore store, DraftDht draft, UserIdentities ids,
            SipOverlay overlay) throws IOException {
        AutoCloseable resources = ids == null ? () -> { } : ids;
        AtomicReference<Proxy> tu = new AtomicReference<>();
        SipStack stack = SipStack.start(SipTransport.Config.of(config.bind()).withTls(config.tls()), config.timers(), new TransactionUser() {
            @Override
            public void onRequest(ServerTransaction tx, SipRequest request) {
                Proxy p = tu.get();
                if (p == null) {
                    tx.respond(503, "Service Unavailable (starting)");
                } else {
                    p.onRequest(tx, request);
                }
            }

            @Override
            public void onAck(SipRequest ack, Source source) {
                Proxy p = tu.get();
                if (p != null) {
                    p.onAck(ack, source);
                }
            }

            @Override
            public void onStrayResponse(SipResponse response, Source source) {
                Proxy p = tu.get();
                if (p != null) {
                    p.onStrayResponse(response, source);
                }
            }
        });
        String self = Proxy.selfUri(stack.transport().localAddress());
        DigestAuthenticator auth = new DigestAuthenticator(config.realm(), config.accounts(), config.algorithms(),
                300_000, System::currentTimeMillis);
        UserAgentClient ua = new UserAgentClient(stack.transactions(), stack.transport().localAddress());
        org.p2psip.sip.identity.SenderAuthentication senders = new org.p2psip.sip.identity.SenderAuthentication(auth,
                config.accounts(), config.realm(), config.domains(), stack.transport().localAddress());
        OfflineMessaging offline = draft == null ? null
                : new OfflineMessaging(draft, ids, ua, System::currentTimeMillis, senders);
        RegistrationListener listener = offline == null ? RegistrationListener.NONE
                : (aor, bindings, newHere) -> deliverOffline(offline, tu.get(), stack, aor, bindings, newHere);
        java.util.function.Supplier<String> selfNow = overlay == null ? () -> self
                : () -> self + overlay.location().uriParams();
        Registrar registrar = new Registrar(auth, store, selfNow, config.domains(), config.expiry(),
                System::currentTimeMillis, listener);
        PresenceAgent presence = draft == null ? null : new PresenceAgent(stack.transactions(), ua, store, draft, ids,
                config.domains(), config.presenceExpiry(), System::currentTimeMillis, senders);
        SipDnsResolver dns = config.dns() == null ? null
                : new SipDnsResolver(stack.transport().group().next(), config.dns().nameServer());
        Proxy proxy = new Proxy(stack.transactions(), stack.transport(), registrar, store, config.domains(),
                config.timerCMillis(), offline, presence, dns, dns == null ? null : auth,
                config.dns() == null ? DomainRouting.DEFAULT : config.dns().routing());
        if (dns != null) {
            AutoCloseable before = resources;
            resources = () -> {
                dns.close();
                before.close();
            };
        }
        OverlayRelay relay = null;
        if (overlay != null) {
            relay = new OverlayRelay(overlay, stack.transport().localAddress());
            proxy.overlay(overlay, relay);
            OverlayRelay r = relay;
            AutoCloseable before = resources;
            resources = () -> {
                r.close();
                before.close();
            };
        }
        tu.set(proxy);
        SipPeer peer = new SipPeer(stack, registrar, proxy, offline, presence, store, resources);
        peer.relay = relay;
        peer.draft = draft;
        if (overlay != null) {
            peer.checkLocation();
        }
        return peer;
    }

    /** Delay between a REGISTER's 200 and the delivery of offline messages (the phone may still be busy). */
    static final long OFFLINE_DELIVERY_DELAY_MS = 500;

    /**
     * After a REGISTER: the waiting offline messages go to the first phone it registered, directly (its flow) or,
     * registered through an edge proxy, along its Path (RFC 3327), whose flow token leads the edge to the phone.
     * The {@code offline:} key is read only when a message can be waiting that this peer has not looked for yet
     * ({@link OfflineMessaging#readDue}: a new binding, a hint, a stale or incomplete last read).
     */
    private static void deliverOffline(OfflineMessaging offline, Proxy proxy, SipStack stack, String aor,
            List<ContactBinding> bindings, boolean newHere) {
        for (ContactBinding b : bindings) {
            try {
                if (Contact.parse(b.contact()).address().uri() instanceof SipUri contact) {
                    Optional<Target> t = b.pathHeaders().isEmpty() ? proxy.deliveryTarget(contact)
                            : Proxy.targetOf(org.p2psip.sip.message.Address.parse(b.pathHeaders().get(0),
                                    org.p2psip.sip.message.HeaderNames.ROUTE).uri());
                    if (t.isPresent()) {
                        if (!offline.readDue(aor, newHere)) {
                            return;
                        }
                        List<String> routes = b.pathHeaders();
                        stack.transactions().schedule(OFFLINE_DELIVERY_DELAY_MS,
                                () -> offline.deliver(aor, contact, t.get(), routes));
                        return;
                    }
                }
            } catch (SipParseException e) {
                // not a binding we can deliver to
            }
        }
    }

    private volatile OverlayRelay relay;
    private volatile DraftDht draft;

    /** The signed-record DHT the peer's records go through, when it runs on a {@link Dht} (its {@code stats()}). */
    public Optional<DraftDht> dht() {
        return Optional.ofNullable(draft);
    }

    /** The SIP-over-overlay relay, present when the peer was started with a {@link SipOverlay}. */
    public Optional<OverlayRelay> overlayRelay() {
        return Optional.ofNullable(relay);
    }

    /**
     * Tells the peer that its overlay location may have changed (a role change, a leaf's new superpeer, NAT
     * discovery): bindings registered here are stored again with the new path where it differs. Any thread.
     */
    public CompletableFuture<Integer> locationChanged() {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        stack.transactions().execute(() -> registrar.restore().whenComplete((n, e) -> {
            if (e != null) {
                done.completeExceptionally(e);
            } else {
                done.complete(n);
            }
        }));
        return done;
    }

    /** How often the location is compared with the stored paths (NAT discovery may finish after a REGISTER). */
    static final long LOCATION_CHECK_MS = 5_000;

    /** Every {@link #LOCATION_CHECK_MS}: bindings whose path is not the current location are stored again. */
    private void checkLocation() {
        stack.transactions().schedule(LOCATION_CHECK_MS, () -> {
            if (closed) {
                return;
            }
            registrar.restore().whenComplete((n, e) -> {
                if (e != null) {
                    LOG.info("storing the bindings again with this peer's new overlay location failed: {}; trying"
                            + " again in {} ms", e.toString(), LOCATION_CHECK_MS);
                } else if (n > 0) {
                    LOG.info("stored {} binding(s) again with this peer's overlay location {}", n,
                            proxy.selfUri());
                }
            });
            checkLocation();
        });
    }

    private volatile boolean closed;

    public SipStack stack() {
        return stack;
    }

    public Registrar registrar() {
        return registrar;
    }

    public Proxy proxy() {
        return proxy;
    }

    /**
     * The binding store: signed contact records ({@link SignedContactStore}, each user's key) when the peer runs on
     * a {@link Dht}. An application embedded in the peer registers its own AORs here, as the registrar does.
     */
    public ContactStore contacts() {
        return contacts;
    }

    /** The presence notifier, present when the peer runs on signed records. */
    public Optional<PresenceAgent> presence() {
        return Optional.ofNullable(presence);
    }

    /** Offline messaging, present when the peer runs on signed records. */
    public Optional<OfflineMessaging> offline() {
        return Optional.ofNullable(offline);
    }

    public InetSocketAddress localAddress() {
        return stack.transport().localAddress();
    }

    @Override
    public void close() {
        closed = true;
        stack.close();
        try {
            resources.close();
        } catch (Exception e) {
            // closing threads only
        }
    }
}
