package org.p2psip.storage.api;

import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.SignedRecordPolicy;

/**
 * The storing node's rules for everything {@link DraftDht} writes, as one {@link StoragePolicy}:
 * <ul>
 * <li><b>immutable values</b> (empty owner): key and nonce must be the value's hash and the data a data or index
 * node ({@link ImmutableValues#check}); a re-put may only extend the expiry ({@link Refusal#STORED_LONGER}
 * otherwise); they cannot be removed, only expire;</li>
 * <li><b>service registrations</b> (the DHT key of a namespace served by {@link ServiceDirectory}): signed records
 * from any writer, each owning its own registration; checked by
 * {@link SignedRecordPolicy#checkOpenPut} with {@link ServiceDirectory#contentCheck};</li>
 * <li>everything else: signed records under the draft's resource names, delegated to {@link SignedRecordPolicy}
 * (ca or tofu mode).</li>
 * </ul>
 * Thread-safe and non-blocking if the delegate is.
 */
public final class DraftPolicy implements StoragePolicy {
    private final SignedRecordPolicy records;
    private final Map<NodeId, String> serviceKeys = new HashMap<>();

    /**
     * @param serviceNamespaces the service-interface namespaces this overlay serves (e.g.
     *        {@link Namespaces#P2P_SIP}); registrations under other namespaces are refused like any unknown name
     */
    public DraftPolicy(SignedRecordPolicy records, Collection<String> serviceNamespaces) {
        this.records = Objects.requireNonNull(records, "records");
        for (String ns : serviceNamespaces) {
            serviceKeys.put(ServiceDirectory.serviceKey(ns).dhtKey(), ns);
        }
    }

    /** Signed records, immutable values, and the {@code p2p-sip} service namespace. */
    public static DraftPolicy of(SignedRecordPolicy records) {
        return new DraftPolicy(records, List.of(Namespaces.P2P_SIP));
    }

    public SignedRecordPolicy records() {
        return records;
    }

    @Override
    public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
        if (value.owner().isEmpty()) {
            try {
                ImmutableValues.check(key, value);
            } catch (RecordException e) {
                return Decision.refuse(e.getMessage());
            }
            if (existing != null && existing.expiresAtMillis() > value.expiresAtMillis()) {
                return Decision.refuse(Refusal.STORED_LONGER.reason("this immutable value is stored until "
                        + Instant.ofEpochMilli(existing.expiresAtMillis())));
            }
            return Decision.ACCEPT;
        }
        String ns = serviceKeys.get(key);
        if (ns != null) {
            return records.checkOpenPut(key, value, existing, nowMillis, ServiceDirectory.contentCheck(ns));
        }
        return records.checkPut(key, value, existing, nowMillis);
    }

    @Override
    public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
        if (request.owner().isEmpty()) {
            return Decision.refuse(Refusal.NOT_ENTITLED.reason("immutable values cannot be removed; they expire"));
        }
        if (serviceKeys.containsKey(key)) {
            return records.checkOpenRemove(key, request, existing, nowMillis);
        }
        return records.checkRemove(key, request, existing, nowMillis);
    }

    @Override
    public Decision precheckPut(NodeId key, DhtValue value, long nowMillis) {
        return value.owner().isEmpty() ? null : records.precheckPut(key, value, nowMillis);
    }

    @Override
    public boolean checksAhead(NodeId key, DhtValue value) {
        return !value.owner().isEmpty() && records.checksAhead(key, value); // immutables: hashing in checkPut
    }

    @Override
    public Decision precheckRemove(NodeId key, RemoveRequest request, long nowMillis) {
        return request.owner().isEmpty() ? null : records.precheckRemove(key, request, nowMillis);
    }

    @Override
    public String toString() {
        return "DraftPolicy[" + records + ", services=" + serviceKeys.values() + "]";
    }
}
