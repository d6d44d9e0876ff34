package org.p2psip.sip.registrar;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.SipParseException;

/**
 * Bindings as OpenDHT-style unsigned values ({@link SecretHashPolicy}) under {@code NodeId.ofName(aor)}: the data is
 * {@link ContactBinding#encode()}, the owner the SHA-1 of a random per-binding secret that only this store knows, so
 * only it can remove the value. Temporary: the signed draft records of the storage module replace this.
 */
public final class DhtContactStore implements ContactStore {
    private record Mine(Bytes secret, Bytes data, long expiresAtMillis) {
    }

    static final int SWEEP_EVERY = 1024;
    private final java.util.concurrent.atomic.AtomicLong puts = new java.util.concurrent.atomic.AtomicLong();

    private final Dht dht;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();
    /** (aor, contact URI) to the secret and data of the value we stored. */
    private final Map<String, Mine> mine = new ConcurrentHashMap<>();

    public DhtContactStore(Dht dht) {
        this(dht, System::currentTimeMillis);
    }

    public DhtContactStore(Dht dht, LongSupplier clock) {
        this.dht = dht;
        this.clock = clock;
    }

    static String localKey(String aor, String contact) {
        return aor + "\n" + contactUri(contact);
    }

    /** The Contact's URI text, the identity of a binding within an AOR. */
    static String contactUri(String contact) {
        try {
            return Contact.parse(contact).address().uri().toString();
        } catch (SipParseException e) {
            return contact;
        }
    }

    @Override
    public CompletableFuture<Void> put(ContactBinding b) {
        if (puts.incrementAndGet() % SWEEP_EVERY == 0) {
            long now = clock.getAsLong();
            mine.values().removeIf(m -> m.expiresAtMillis() <= now); // the DHT dropped those values already
        }
        String k = localKey(b.aor(), b.contact());
        Bytes data = Bytes.utf8(b.encode());
        Mine old = mine.get(k);
        Bytes secret = old != null ? old.secret() : randomSecret();
        CompletableFuture<Void> cleared = CompletableFuture.completedFuture(null);
        if (old != null && old.expiresAtMillis() > clock.getAsLong() && !old.data().equals(data)) {
            cleared = removeValue(b.aor(), old); // changed parameters: a new value, the old one goes
        }
        DhtValue v = SecretHashPolicy.value(data, secret, b.expiresAtMillis());
        return cleared.thenCompose(x -> dht.put(NodeId.ofName(b.aor()), v))
                .thenRun(() -> mine.put(k, new Mine(secret, data, b.expiresAtMillis())));
    }

    @Override
    public CompletableFuture<Void> remove(String aor, String contact) {
        Mine old = mine.remove(localKey(aor, contact));
        return old == null || old.expiresAtMillis() <= clock.getAsLong() ? CompletableFuture.completedFuture(null)
                : removeValue(aor, old);
    }

    private CompletableFuture<Void> removeValue(String aor, Mine m) {
        return dht.remove(NodeId.ofName(aor), SecretHashPolicy.sha1(m.secret()), SecretHashPolicy.sha1(m.data()),
                m.secret()).thenApply(r -> (Void) null);
    }

    @Override
    public CompletableFuture<List<ContactBinding>> lookup(String aor) {
        return dht.get(NodeId.ofName(aor)).thenApply(values -> {
            long now = clock.getAsLong();
            Map<String, ContactBinding> byUri = new LinkedHashMap<>();
            for (DhtValue v : values) {
                if (v.expiredAt(now)) {
                    continue;
                }
                ContactBinding b;
                try {
                    b = ContactBinding.decode(v.data().utf8String(), v.expiresAtMillis());
                } catch (IllegalArgumentException e) {
                    continue; // someone else's junk under the key
                }
                if (!b.aor().equals(aor)) {
                    continue;
                }
                byUri.merge(contactUri(b.contact()), b,
                        (x, y) -> x.expiresAtMillis() >= y.expiresAtMillis() ? x : y);
            }
            return new ArrayList<>(byUri.values());
        });
    }

    private Bytes randomSecret() {
        byte[] s = new byte[20];
        random.nextBytes(s);
        return Bytes.wrap(s);
    }
}
