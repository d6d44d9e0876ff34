package org.p2psip.overlay.store;

import java.security.MessageDigest;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;

/**
 * OpenDHT's rules for unsigned values. A value's nonce is the SHA-1 of its data, so nobody can replace
 * another writer's value, only add their own. Its owner is the SHA-1 of a secret (OpenDHT's
 * {@code secret_hash}), or empty for a value that can never be removed. Removal reveals the secret.
 * A re-put of the same value may only extend its expiry.
 */
public final class SecretHashPolicy implements StoragePolicy {
    @Override
    public Decision checkPut(NodeId key, DhtValue value, DhtValue existing, long nowMillis) {
        if (!value.nonce().equals(sha1(value.data()))) {
            return Decision.refuse("the nonce of an unsigned value must be the SHA-1 of its data");
        }
        if (!value.owner().isEmpty() && value.owner().length() != 20) {
            return Decision.refuse("the secret hash must be a 20-byte SHA-1");
        }
        if (existing != null && existing.expiresAtMillis() > value.expiresAtMillis()) {
            return Decision.refuse("a stored copy expires later; a put may only extend the expiry");
        }
        return Decision.ACCEPT;
    }

    @Override
    public Decision checkRemove(NodeId key, RemoveRequest request, DhtValue existing, long nowMillis) {
        if (request.owner().isEmpty()) {
            return Decision.refuse("this value was put without a secret hash and cannot be removed");
        }
        if (!sha1(request.proof()).equals(request.owner())) {
            return Decision.refuse("the secret does not hash to the value's secret hash");
        }
        return Decision.ACCEPT;
    }

    /** SHA-1 of {@code b}. */
    public static Bytes sha1(Bytes b) {
        try {
            return Bytes.wrap(MessageDigest.getInstance("SHA-1").digest(b.unsafeArray()));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** An unsigned value in this policy's form: nonce = SHA-1(data), owner = SHA-1(secret) or empty. */
    public static DhtValue value(Bytes data, Bytes secret, long expiresAtMillis) {
        return new DhtValue(secret.isEmpty() ? Bytes.EMPTY : sha1(secret), sha1(data), data, expiresAtMillis);
    }
}
