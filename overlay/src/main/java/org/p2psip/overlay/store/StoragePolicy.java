package org.p2psip.overlay.store;

import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;

/**
 * Decides which values a storing node accepts and who may remove them. The overlay knows nothing of
 * signatures or owners; the storage module plugs in the P2P-SIP draft's rules here, and
 * {@link SecretHashPolicy} gives OpenDHT's. Implementations must be thread-safe and must not block.
 */
public interface StoragePolicy {
    /**
     * @param existing the value stored under the same (owner, nonce), or null
     */
    Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis);

    /**
     * @param existing the value to remove, or null when this node does not hold it
     */
    Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis);

    /**
     * Does ahead the part of {@link #checkPut} that depends on the value alone (for signed records: parsing and
     * verifying the signature), so that {@code checkPut} then finds it done and stays cheap. A node calls it on
     * another thread than its own, so that verifying one writer's record does not hold up every other request.
     * May be slow; must be thread-safe and must not change what {@code checkPut} decides.
     *
     * @return the refusal {@code checkPut} would give whatever the store holds, or null when that is not known yet
     *     (the default: nothing is done ahead)
     */
    default Decision precheckPut(NodeId key, DhtValue value, long nowMillis) {
        return null;
    }

    /** As {@link #precheckPut}, for the proof of a removal. */
    default Decision precheckRemove(NodeId key, RemoveRequest request, long nowMillis) {
        return null;
    }

    /** A request to remove the value (owner, nonce) at key, with the policy's proof (secret or signature). */
    record RemoveRequest(NodeId key, Bytes owner, Bytes nonce, Bytes proof) { }

    /**
     * Accept, or refuse with a reason the writer will see.
     *
     * @param storeAs what to store instead of the value as received, or null (store it as received): a policy that
     *     accepts a value that only refers to the stored one (a compact refresh, which carries what changed and not
     *     the stored bytes) gives the value it stands for. It has the received value's owner, nonce and expiry.
     */
    record Decision(boolean accepted, String reason, DhtValue storeAs) {
        public static final Decision ACCEPT = new Decision(true, "", null);

        public Decision(boolean accepted, String reason) {
            this(accepted, reason, null);
        }

        public static Decision refuse(String reason) {
            return new Decision(false, reason);
        }

        /** Accepts, storing {@code value} in place of the value received. */
        public static Decision acceptAs(DhtValue value) {
            return new Decision(true, "", java.util.Objects.requireNonNull(value, "value"));
        }

        /**
         * The value to store for {@code received}: {@link #storeAs} when given (it must be the same value id with the
         * same expiry), else {@code received}; null when {@link #storeAs} is another value (a broken policy: the
         * store refuses the put).
         */
        public DhtValue stored(DhtValue received) {
            if (storeAs == null) {
                return received;
            }
            return storeAs.id().equals(received.id()) && storeAs.expiresAtMillis() == received.expiresAtMillis()
                    ? storeAs : null;
        }

        /** The refusal a store gives when {@link #stored} is null. */
        public static final String BROKEN_REPLACEMENT = "internal error: the storage policy replaced the value by"
                + " another value id or expiry; report this as a bug";
    }
}
