package org.p2psip.nat.ice;

import org.p2psip.overlay.NodeId;

/**
 * The Attach exchange (after RELOAD's Attach, RFC 6940 section 6.5.1): a node that wants a link to another node it
 * cannot reach directly sends its ICE parameters through a channel that already works; the target answers with its
 * own, or refuses.
 */
public sealed interface AttachMessage permits AttachMessage.Request, AttachMessage.Answer, AttachMessage.Refused {
    /** The node that sent this message. */
    NodeId from();

    /** The node it is for. */
    NodeId to();

    /** Chosen by the requester; the answer repeats it. */
    long transaction();

    /** "Let us link": the requester will be the controlling ICE agent. */
    record Request(NodeId from, NodeId to, long transaction, IceParameters ice) implements AttachMessage {
    }

    /** "Here are mine": the target runs its checks as the controlled agent. */
    record Answer(NodeId from, NodeId to, long transaction, IceParameters ice) implements AttachMessage {
    }

    /** The target will not link (busy, closing, no candidates), with a reason a human can act on. */
    record Refused(NodeId from, NodeId to, long transaction, String reason) implements AttachMessage {
    }
}
