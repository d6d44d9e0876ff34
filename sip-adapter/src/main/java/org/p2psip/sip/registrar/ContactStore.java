package org.p2psip.sip.registrar;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Where bindings live: the registrar writes its own bindings, the proxy reads everyone's. Futures may complete on
 * any thread. This hides the record format, so the signed records of the storage module can replace
 * OpenDHT-style values of the first version without touching the registrar or the proxy. The peer's
 * store is {@link SignedContactStore}.
 */
public interface ContactStore {
    /** Stores or refreshes a binding this peer registered (the key is its AOR and Contact URI). */
    CompletableFuture<Void> put(ContactBinding binding);

    /** Removes a binding this peer registered earlier; completes normally if there was none. */
    CompletableFuture<Void> remove(String aor, String contact);

    /** The live bindings of {@code aor}, from every peer, one per Contact (the latest expiry wins). */
    CompletableFuture<List<ContactBinding>> lookup(String aor);

    /**
     * As {@link #put}, and completes with the live bindings of the binding's AOR (as {@link #lookup} gives them)
     * when the store knows them without reading, because the put's replies confirmed what it read before; empty
     * when the caller must {@link #lookup}. The default knows nothing.
     */
    default CompletableFuture<Optional<List<ContactBinding>>> putConfirmed(ContactBinding binding) {
        return put(binding).thenApply(x -> Optional.empty());
    }
}
