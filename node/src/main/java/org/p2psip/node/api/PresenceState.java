package org.p2psip.node.api;

/**
 * One presence notification (a NOTIFY of the presentity's peer, PIDF basic status).
 *
 * @param presentity the watched AOR
 * @param open       true when the presentity has at least one live contact (PIDF {@code open}), else false
 * @param terminated true for the last notification of a subscription (cancelled, expired or refused); no more
 *                   follow
 */
public record PresenceState(String presentity, boolean open, boolean terminated) {
}
