package org.p2psip.node.event;

import java.util.Objects;
import org.p2psip.overlay.NodeId;

/**
 * What happened to a running peer's role and links, for an embedding program ({@code Peer.addListener}).
 * <ul>
 * <li>{@link RoleChanged}: the peer's role in its site changed (elected superpeer, unseated, warm-up over);</li>
 * <li>{@link LinkUp} / {@link LinkDown}: a link to another peer came up or went down; its {@link LinkKind} says
 * which (a leaf's primary superpeer or standby, a superpeer's leaf, an overlay neighbour).</li>
 * </ul>
 * A leaf's failover shows as {@code LinkDown(old, SUPERPEER)}, {@code LinkDown(standby, STANDBY)},
 * {@code LinkUp(standby, SUPERPEER)}, and later {@code LinkUp(new standby, STANDBY)}.
 */
public sealed interface PeerEvent permits PeerEvent.RoleChanged, PeerEvent.LinkUp, PeerEvent.LinkDown {

    /** The role changed from {@code from} to {@code to}. */
    record RoleChanged(PeerRole from, PeerRole to) implements PeerEvent {
        public RoleChanged {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
        }
    }

    /** A link of {@code kind} to {@code peer} came up. */
    record LinkUp(NodeId peer, LinkKind kind) implements PeerEvent {
        public LinkUp {
            Objects.requireNonNull(peer, "peer");
            Objects.requireNonNull(kind, "kind");
        }
    }

    /** A link of {@code kind} to {@code peer} went down (or changed kind: a standby that became the primary). */
    record LinkDown(NodeId peer, LinkKind kind) implements PeerEvent {
        public LinkDown {
            Objects.requireNonNull(peer, "peer");
            Objects.requireNonNull(kind, "kind");
        }
    }
}
