package org.p2psip.superpeer.election;

import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.superpeer.discovery.NatInfo;

/** Reachability tiers, best first is highest {@link #rank}. */
public enum Reachability {
    UNKNOWN(0), SYMMETRIC(1), RESTRICTED(2), FULL_CONE(3), PORT_MAPPED(4), PUBLIC(5);

    public final int rank;

    Reachability(int rank) {
        this.rank = rank;
    }

    /**
     * The tier a peer counts as. A claim of no NAT counts as {@link #PUBLIC} only when {@code publicVerified}
     * (a connect-back succeeded); unverified, it falls back to what its filtering says. Port-mapped is taken on the
     * announcement's word (the mapping was granted by the site's own router; see README, "what remains").
     */
    public static Reachability of(NatInfo nat, boolean publicVerified) {
        if (nat.claimsPublic() && publicVerified) {
            return PUBLIC;
        }
        if (nat.portMapped()) {
            return PORT_MAPPED;
        }
        MappingBehavior m = nat.mapping();
        FilteringBehavior f = nat.filtering();
        if (m == MappingBehavior.UNKNOWN) {
            return UNKNOWN;
        }
        if (m != MappingBehavior.ENDPOINT_INDEPENDENT) {
            return SYMMETRIC;
        }
        return switch (f) {
            case ENDPOINT_INDEPENDENT -> FULL_CONE;
            case ADDRESS_DEPENDENT, ADDRESS_AND_PORT_DEPENDENT -> RESTRICTED;
            case UNKNOWN -> UNKNOWN;
        };
    }
}
