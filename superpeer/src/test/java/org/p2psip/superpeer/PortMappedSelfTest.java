package org.p2psip.superpeer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.nat.portmap.Mapping;
import org.p2psip.nat.portmap.Method;
import org.p2psip.nat.portmap.Protocol;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.discovery.NatInfo;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;
import org.p2psip.superpeer.election.Reachability;

/** A granted port mapping is advertised in the signed announcement and makes the peer count as port-mapped. */
class PortMappedSelfTest {
    static final InetSocketAddress LAN = new InetSocketAddress("192.0.2.2", 40001);
    static final InetSocketAddress EXTERNAL = new InetSocketAddress("203.0.113.101", 40001);

    static SiteNode.SelfInfo self(List<InetSocketAddress> addresses) {
        return new SiteNode.SelfInfo(addresses, 26, null, NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT), Preference.AUTO, 500, 1000, 10_000);
    }

    @Test
    void aMappedPeerAdvertisesTheMappedAddressAndCountsAsPortMapped() throws Exception {
        SiteNode.SelfInfo base = self(List.of(LAN));
        assertEquals(Reachability.RESTRICTED, Reachability.of(base.nat(), false));
        Mapping m = new Mapping(Protocol.UDP, LAN, EXTERNAL, Duration.ofSeconds(3600), Method.PCP);
        SiteNode.SelfInfo mapped = PortMappedSelf.apply(base, Optional.of(m));
        assertEquals(List.of(LAN, EXTERNAL), mapped.overlayAddresses(), "the LAN address stays first");
        assertTrue(mapped.nat().portMapped());
        assertEquals(Reachability.PORT_MAPPED, Reachability.of(mapped.nat(), false));

        Ed25519Keys keys = Ed25519Keys.generate();
        Announcement a = new Announcement.Unsigned(mapped.overlayAddresses(), mapped.prefixLength(), null,
                mapped.nat(), Role.CANDIDATE, mapped.preference(), 60, 500, 1000, 10_000, 1, 1).sign(keys);
        Announcement back = Announcement.decode(a.encode());
        assertEquals(List.of(LAN, EXTERNAL), back.overlayAddresses());
        assertEquals(Reachability.PORT_MAPPED, Reachability.of(back.nat(), false));

        assertSame(base, PortMappedSelf.apply(base, Optional.empty()), "no mapping: unchanged");
        assertFalse(base.nat().portMapped());
        SiteNode.SelfInfo full = self(List.of(LAN, new InetSocketAddress("192.0.2.3", 1),
                new InetSocketAddress("192.0.2.4", 1), new InetSocketAddress("192.0.2.5", 1)));
        List<InetSocketAddress> four = PortMappedSelf.apply(full, Optional.of(m)).overlayAddresses();
        assertEquals(Announcement.MAX_ADDRESSES, four.size());
        assertEquals(LAN, four.get(0));
        assertEquals(EXTERNAL, four.get(3));
    }
}
