package org.p2psip.nat.ice;

import org.p2psip.overlay.NodeId;

/**
 * The Attach exchange (after RELOAD's Attach, RFC 6940 section 6.5.1): a node that wants a link to another node it
 * cannot reach directly sends its ICE parameters through a channel that already works; the target answers with its
 * own, or refuses.
 */
public sealed interface AttachMessage
        permits AttachMessage.Request, AttachMessage.Answer, AttachMessage.Refused, AttachMessage.Candidates {
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

    /**
     * Trickled candidates (after RFC 8838): more candidates of the session that the request with this transaction
     * opened, found after the request or answer was sent (server-reflexive, relayed, port-mapped). Sent either way;
     * one-way, so a lost one only costs those candidates. Signaling stays untrusted: at most
     * {@link IceParameters#MAX_CANDIDATES} per message, and a session takes at most that many trickled in all.
     */
    record Candidates(NodeId from, NodeId to, long transaction, java.util.List<IceCandidate> candidates)
            implements AttachMessage {
        public Candidates {
            candidates = java.util.List.copyOf(candidates);
            if (candidates.isEmpty() || candidates.size() > IceParameters.MAX_CANDIDATES) {
                throw new IllegalArgumentException("1.." + IceParameters.MAX_CANDIDATES + " candidates expected, got "
                        + candidates.size());
            }
        }
    }
}
