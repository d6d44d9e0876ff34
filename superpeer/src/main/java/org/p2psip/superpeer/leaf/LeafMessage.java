package org.p2psip.superpeer.leaf;

import java.net.InetSocketAddress;
import java.util.List;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;

/**
 * The leaf-superpeer protocol. Handshake messages ({@link Attach}, {@link Accept}, {@link Refuse}) are signed with
 * the sender's Ed25519 node key and set up a session with an X25519 exchange; every other message travels inside
 * that session, authenticated by an HMAC with a per-direction key and a replay window (see {@link LeafCodec}).
 * {@link ToSuperpeer} messages go from a leaf to a superpeer, {@link ToLeaf} the other way.
 */
public sealed interface LeafMessage {
    /** Sent by a leaf. */
    sealed interface ToSuperpeer extends LeafMessage { }

    /** Sent by a superpeer. */
    sealed interface ToLeaf extends LeafMessage { }

    /** A message that travels inside a session (not the handshake). */
    sealed interface InSession extends LeafMessage { }

    // ------------------------------------------------------------------ handshake

    /**
     * A leaf asks to attach. Signed by the leaf's node key over every byte before the signature.
     *
     * @param leafKey     the leaf's raw Ed25519 public key; its SHA-1 is the leaf's node id
     * @param ephemeral   the leaf's fresh X25519 public key for this session
     * @param superpeer   the node id of the superpeer asked, so the attach cannot be replayed to another one
     * @param timestamp   wall clock ms; the superpeer refuses attaches outside its window and not newer than the last
     * @param standby     true for the standby link to the backup (no calls expected until failover)
     */
    record Attach(Bytes leafKey, Bytes ephemeral, NodeId superpeer, long timestamp, boolean standby)
            implements ToSuperpeer { }

    /**
     * The superpeer accepts; signed by its node key. Binding {@code leafEphemeral} ties the answer to one attach.
     *
     * @param heartbeatMillis the interval the leaf should send heartbeats at
     */
    record Accept(Bytes superpeerKey, Bytes ephemeral, Bytes leafEphemeral, long sessionId, int heartbeatMillis)
            implements ToLeaf { }

    /** Why a superpeer refuses an attach. */
    enum RefuseCode { CAPACITY, NOT_SUPERPEER, BAD_ATTACH }

    /** The superpeer refuses an attach; signed by its node key and bound to the attach's ephemeral key. */
    record Refuse(Bytes superpeerKey, Bytes leafEphemeral, RefuseCode code, String reason) implements ToLeaf { }

    // ------------------------------------------------------------------ in a session, leaf to superpeer

    /** Keeps the session alive; the superpeer answers {@link HeartbeatAck}. */
    record Heartbeat(long sequence) implements ToSuperpeer, InSession { }

    record PutCall(long callId, NodeId key, DhtValue value) implements ToSuperpeer, InSession { }

    record GetCall(long callId, NodeId key) implements ToSuperpeer, InSession { }

    record RemoveCall(long callId, NodeId key, Bytes owner, Bytes nonce, Bytes proof) implements ToSuperpeer, InSession { }

    /** Starts (or renews after a failover) a listen; the superpeer answers with a {@link Result} for {@code listenId}. */
    record ListenCall(long listenId, NodeId key) implements ToSuperpeer, InSession { }

    record Unlisten(long listenId) implements ToSuperpeer, InSession { }

    /** The leaf leaves this superpeer; the session ends. */
    record Detach() implements ToSuperpeer, InSession { }

    /** The leaf received the {@link Notify} with this sequence; the superpeer stops resending it. */
    record NotifyAck(long sequence) implements ToSuperpeer, InSession { }

    // ------------------------------------------------------------------ in a session, superpeer to leaf

    record HeartbeatAck(long sequence) implements ToLeaf, InSession { }

    /** Outcome of a put, remove or listen call, or the failure of any call. */
    record Result(long callId, Status status, int stored, int contacted, String message) implements ToLeaf, InSession { }

    /** The values a get found. */
    record Values(long callId, List<DhtValue> values) implements ToLeaf, InSession { }

    /**
     * A change at a key the leaf listens to. {@code sequence} numbers the session's notifications; the superpeer
     * resends one until the leaf answers {@link NotifyAck}.
     */
    record Notify(long listenId, long sequence, NodeId key, DhtValue value, boolean removed) implements ToLeaf, InSession { }

    /**
     * The superpeer is stopping: move to {@code next} (its backup), or to any other superpeer when null.
     */
    record Move(InetSocketAddress next) implements ToLeaf, InSession { }
}
