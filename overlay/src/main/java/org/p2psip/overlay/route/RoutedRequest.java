package org.p2psip.overlay.route;

import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;

/**
 * A routed request as its destination's handler sees it.
 *
 * @param origin  the node that sent it, as the first hop's via entry claims (authenticated by that hop's link when
 *                links are DTLS; later hops cannot check it, so an application that needs proof authenticates its
 *                peer itself, as ICE links do with the DTLS handshake)
 * @param target  the id it was routed to
 * @param hops    links it crossed
 */
public record RoutedRequest(NodeId origin, NodeId target, String appId, Bytes payload, int hops) { }
