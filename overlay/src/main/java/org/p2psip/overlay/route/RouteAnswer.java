package org.p2psip.overlay.route;

import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;

/**
 * The answer to a routed request.
 *
 * @param responder the node whose handler answered
 * @param hops      links the request crossed to reach it (0: this node answered itself)
 * @param payload   the handler's answer
 */
public record RouteAnswer(NodeId responder, int hops, Bytes payload) { }
