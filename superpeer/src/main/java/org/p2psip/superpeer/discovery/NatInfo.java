package org.p2psip.superpeer.discovery;

import java.util.Objects;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;

/**
 * What a peer knows of its NAT, as announced: the RFC 5780 results from {@code org.p2psip.nat.discovery}, whether
 * a NAT was detected at all ({@code null}: unknown), and whether it holds a port mapping (UPnP-IGD, NAT-PMP, PCP).
 */
public record NatInfo(MappingBehavior mapping, FilteringBehavior filtering, Boolean natDetected, boolean portMapped) {
    public static final NatInfo UNKNOWN = new NatInfo(MappingBehavior.UNKNOWN, FilteringBehavior.UNKNOWN, null, false);

    public NatInfo {
        Objects.requireNonNull(mapping, "mapping");
        Objects.requireNonNull(filtering, "filtering");
    }

    /** No NAT in front of the peer: a claim of public reachability (it still must be verified by a connect-back). */
    public boolean claimsPublic() {
        return Boolean.FALSE.equals(natDetected);
    }

    public static NatInfo publicHost() {
        return new NatInfo(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ENDPOINT_INDEPENDENT, false, false);
    }

    public static NatInfo behindNat(MappingBehavior m, FilteringBehavior f) {
        return new NatInfo(m, f, true, false);
    }
}
