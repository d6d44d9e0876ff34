package org.p2psip.node;

import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.store.StoragePolicy;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftPolicy;

/**
 * A peer's storage rules: OpenDHT's ({@link SecretHashPolicy}) for unsigned OpenDHT-style values, the draft's
 * ({@link DraftPolicy}: signed records, immutable values, service registrations) for everything else.
 *
 * <p>A value is OpenDHT-style when its nonce is the SHA-1 of its data. Draft values never are: a signed record's
 * nonce is a string inside the signed data (it would have to contain its own hash), and an immutable value's
 * nonce is its 32-byte SHA-256. A remove goes by the stored value when this node holds it, otherwise by its proof
 * (an OpenDHT secret hashes to the owner; a draft proof is a signed record).
 *
 * <p>The draft side runs in the peer's {@link Entitlement} mode ({@code tofu} by default, or {@code ca} with trust
 * anchors). A peer with its persistent record store keeps the first-writer claims in that store
 * ({@code Peer#openRecords}); the no-argument constructor is tofu with claims in memory.
 */
public final class PeerPolicy implements StoragePolicy {
    private final SecretHashPolicy openDht = new SecretHashPolicy();
    private final DraftPolicy draft;

    public PeerPolicy() {
        this(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())));
    }

    public PeerPolicy(DraftPolicy draft) {
        this.draft = draft;
    }

    /** Whether {@code v} is an OpenDHT-style value (nonce = SHA-1 of the data). */
    public static boolean isOpenDht(DhtValue v) {
        return v.nonce().length() == 20 && v.nonce().equals(SecretHashPolicy.sha1(v.data()));
    }

    @Override
    public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
        return isOpenDht(value) ? openDht.checkPut(key, value, existing, nowMillis)
                : draft.checkPut(key, value, existing, nowMillis);
    }

    @Override
    public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
        boolean openDhtRemove = existing != null ? isOpenDht(existing)
                : !request.owner().isEmpty() && request.proof().length() <= 40
                        && SecretHashPolicy.sha1(request.proof()).equals(request.owner());
        return openDhtRemove ? openDht.checkRemove(key, request, existing, nowMillis)
                : draft.checkRemove(key, request, existing, nowMillis);
    }

    @Override
    public Decision precheckPut(NodeId key, DhtValue value, long nowMillis) {
        return isOpenDht(value) ? null : draft.precheckPut(key, value, nowMillis);
    }

    /**
     * Verifies a signed proof ahead, so that {@link #checkRemove} finds it in the verifier's cache, but refuses
     * nothing: whether OpenDHT's secret or the draft's signature rules a removal depends on the stored value, which
     * only {@code checkRemove} sees (an OpenDHT secret of any length removes an OpenDHT value). A proof that hashes
     * to the owner is an OpenDHT secret and is not parsed at all.
     */
    @Override
    public Decision precheckRemove(NodeId key, RemoveRequest request, long nowMillis) {
        if (!SecretHashPolicy.sha1(request.proof()).equals(request.owner())) {
            draft.precheckRemove(key, request, nowMillis);
        }
        return null;
    }

    @Override
    public String toString() {
        return "PeerPolicy(OpenDHT secret hashes + " + draft + ")";
    }
}
