package org.p2psip.overlay;

/** A change seen by {@link Dht#listen}: a value appeared or changed, or it was removed or expired. */
public record ValueEvent(NodeId key, DhtValue value, boolean removed) { }
