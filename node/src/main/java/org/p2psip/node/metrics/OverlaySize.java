package org.p2psip.node.metrics;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

/**
 * Estimates how many nodes the overlay has from one node's routing table. A Kademlia routing table knows the node's
 * own neighbourhood completely, so the density there tells the size: if the k-th closest known node lies at XOR
 * distance d, about k nodes fall in every d of the 2<sup>160</sup> id space, so N ≈ k · 2<sup>160</sup> / d. With
 * fewer than k known nodes the node probably knows them all, and the estimate is their count plus itself.
 */
public final class OverlaySize {
    private static final BigInteger SPACE = BigInteger.ONE.shiftLeft(NodeId.BITS);

    private OverlaySize() { }

    /**
     * @param self     this node's id
     * @param contacts the routing table's contacts (this node excluded)
     * @param k        the routing table's bucket size (the overlay's k)
     * @return the estimated number of nodes, this one included (at least 1)
     */
    public static long estimate(NodeId self, List<Contact> contacts, int k) {
        if (contacts.size() < k) {
            return contacts.size() + 1L;
        }
        List<BigInteger> d = new ArrayList<>(contacts.size());
        for (Contact c : contacts) {
            d.add(new BigInteger(1, c.id().xor(self).toBytes()));
        }
        d.sort(Comparator.naturalOrder());
        BigInteger kth = d.get(k - 1).max(BigInteger.ONE);
        BigInteger n = SPACE.multiply(BigInteger.valueOf(k)).divide(kth);
        return Math.max(contacts.size() + 1L, n.min(BigInteger.valueOf(Long.MAX_VALUE)).longValue());
    }
}
