package org.p2psip.overlay;

import java.net.InetSocketAddress;

/** A snapshot of one node for {@code p2psip status} and monitoring. */
public record NodeStatus(
        NodeId id,
        InetSocketAddress address,
        boolean joined,
        int neighbours,
        int buckets,
        int links,
        int maxLinks,
        int keys,
        long values,
        long storeBytes,
        long storeMaxBytes,
        int pendingRpcs,
        int listens,
        OverlayStats.Snapshot counters) { }
