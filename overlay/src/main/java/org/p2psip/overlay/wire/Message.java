package org.p2psip.overlay.wire;

import java.util.List;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.HeldValues;
import org.p2psip.overlay.NodeId;

/**
 * The overlay's RPC messages. Requests and their replies are matched by the request id in the frame
 * header ({@link Frame}). Every message family is closed here so the codec can register each with a
 * fixed wire id and a length-checking serializer.
 */
public sealed interface Message {
    /** A message that expects a reply. */
    sealed interface Request extends Message { }

    /** A reply to a request. */
    sealed interface Reply extends Message { }

    /** Outcome codes of PUT, REMOVE and LISTEN, aligned with OpenDHT's gateway codes where they overlap. */
    enum Status {
        OK, REFUSED, CAPACITY, AGAIN, TOO_LARGE, BAD_REQUEST,
        /**
         * A PUT with {@code wantCloser} that the node did not store because it knows {@code replicas} nodes closer
         * to the key than itself (their contacts are in the reply). Only between overlay nodes: the writer then asks
         * those nodes, and stores on this one unconditionally only if it ends among the closest after all.
         */
        NOT_CLOSEST;

        public boolean ok() {
            return this == OK;
        }
    }

    record Ping() implements Request { }

    /** @param observed the address the request came from, as the replying node saw it */
    record Pong(java.net.InetSocketAddress observed) implements Reply { }

    record FindNode(NodeId target) implements Request { }

    record Nodes(List<Contact> nodes) implements Reply { }

    /**
     * @param maxValues 0 for as many as fit in one reply
     * @param placemark empty for the first page; else the page cursor a previous reply returned
     */
    record Get(NodeId key, int maxValues, Bytes placemark) implements Request { }

    /** @param placemark empty when no values remain, as in OpenDHT */
    record GetReply(List<Contact> closer, List<DhtValue> values, Bytes placemark) implements Reply { }

    /**
     * @param replica    true when a storing node hands the value on, false when its writer stores it
     * @param wantCloser the writer's lookup still runs: reply with a {@link PutReply}, which also carries the
     *                   replying node's closest contacts to the key, so one round trip both stores the value
     *                   and answers the lookup (else the reply is an {@link Ack})
     */
    record Put(NodeId key, DhtValue value, boolean replica, boolean wantCloser) implements Request {
        public Put(NodeId key, DhtValue value, boolean replica) {
            this(key, value, replica, false);
        }
    }

    /**
     * The reply to a PUT that asked for closer nodes: the outcome of the store, the closest contacts to the key, and
     * what the node holds under the key after storing ({@link HeldValues#UNKNOWN} when it did not store).
     */
    record PutReply(Status status, String reason, List<Contact> closer, HeldValues held) implements Reply {
        public PutReply(Status status, String reason, List<Contact> closer) {
            this(status, reason, closer, HeldValues.UNKNOWN);
        }

        public PutAck putAck() {
            return new PutAck(status, reason, held);
        }
    }

    /**
     * The reply to a plain PUT: the outcome of the store and, for a writer's own PUT ({@code replica} false) that was
     * stored, what the node holds under the key after storing it ({@link HeldValues#UNKNOWN} otherwise).
     */
    record PutAck(Status status, String reason, HeldValues held) implements Reply {
        public static final PutAck OK = new PutAck(Status.OK, "", HeldValues.UNKNOWN);

        public PutAck(Ack a) {
            this(a.status(), a.reason(), HeldValues.UNKNOWN);
        }

        public Ack ack() {
            return new Ack(status, reason);
        }
    }

    /** @param proof what the storage policy needs to allow removal: a secret, or a signature */
    record Remove(NodeId key, Bytes owner, Bytes nonce, Bytes proof, long tombstoneUntilMillis) implements Request { }

    /** Asks a responsible node to report changes at {@code key} for {@code seconds}. */
    record Listen(NodeId key, long token, int seconds) implements Request { }

    /** Sent by a responsible node to a listener: values that appeared, changed or went away. */
    record Notify(NodeId key, long token, List<DhtValue> values, List<DhtValue> removed) implements Request { }

    /**
     * A request routed hop by hop over existing links to the node {@code target} (or the node closest to it), for the
     * application {@code appId}, as RELOAD routes its messages: each hop appends its own id to {@code via} and
     * forwards to the closest contact it has; the answer ({@link RouteReply}) returns along the same hops.
     *
     * @param target        the node id (or key) the request is for
     * @param transaction   chosen by the origin; with the origin ({@code via.get(0)}) it names the request at every
     *                      hop, so a retransmission is answered once, not delivered twice
     * @param exact         deliver only at the node whose id is {@code target}; else at the closest node reached
     * @param hopLimit      hops this request may still take (the receiver's own hop counted); 0 is never valid
     * @param timeoutMillis how long the sender waits for the answer; each hop forwards with a little less
     * @param via           the nodes the request passed through, origin first; the last is the sender of this hop
     * @param appId         which registered handler gets the payload at the destination
     * @param payload       opaque to the overlay
     */
    record Route(NodeId target, long transaction, boolean exact, int hopLimit, int timeoutMillis, List<NodeId> via,
                 String appId, Bytes payload) implements Request { }

    /**
     * The answer to a {@link Route}, from its destination or from the hop where it failed.
     *
     * @param responder the node that answered (the destination on success)
     * @param hops      links the request crossed to reach the responder
     */
    record RouteReply(Status status, String reason, NodeId responder, int hops, Bytes payload) implements Reply { }

    /** The reply to REMOVE, LISTEN and NOTIFY (a PUT is answered by {@link PutAck} or {@link PutReply}). */
    record Ack(Status status, String reason) implements Reply {
        public static final Ack OK = new Ack(Status.OK, "");
    }
}
