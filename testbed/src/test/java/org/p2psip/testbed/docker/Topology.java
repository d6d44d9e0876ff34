package org.p2psip.testbed.docker;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A testbed topology: a public network with one bootstrap node, and sites, each a LAN behind a NAT router whose
 * WAN side is on the public network. Only documentation addresses are used; each network's Docker gateway (the
 * host's bridge address) is the last usable address, so the routers get the first.
 *
 * @param publicSubnet  the public network
 * @param publicGateway the host's address on it (Docker's gateway, unused by the nodes)
 * @param bootstrap     the public bootstrap node
 * @param sites         the NATed sites
 * @param phones        the SIP phones (sipp containers), on the public network or a site's LAN
 */
record Topology(String publicSubnet, String publicGateway, PeerSpec bootstrap, List<SiteSpec> sites,
                List<PhoneSpec> phones) {
    /** The SIP domain (and digest realm) of every node and phone. */
    static final String SIP_DOMAIN = "testbed.p2psip.test";
    /** The UDP port of LAN discovery (p2psip's default). */
    static final int SITE_PORT = 5362;

    /** One node: its container name suffix, address and overlay UDP port. */
    record PeerSpec(String name, String ip, int port) {
        String endpoint() {
            return ip + ":" + port;
        }
    }

    /**
     * A SIP phone.
     *
     * @param name container name suffix
     * @param user its SIP user, {@code user@}{@value #SIP_DOMAIN}
     * @param site its site's name, or {@code public}
     * @param ip   its address on that network
     */
    record PhoneSpec(String name, String user, String site, String ip) {
        /** A demo password (every node's accounts file has it). */
        String password() {
            return user + "-secret";
        }
    }

    /** Every phone's account as {@code user:password}, space-separated: the nodes' {@code TESTBED_SIP_USERS}. */
    String sipUsers() {
        return String.join(" ", phones.stream().map(p -> p.user() + ":" + p.password()).toList());
    }

    /**
     * A site: a LAN behind a router.
     *
     * @param name      short name (container and log prefix)
     * @param nat       the router's behaviour
     * @param subnet    the LAN
     * @param gateway   Docker's gateway address on the LAN (the host side, unused by the nodes)
     * @param routerLan the router's LAN address: the peers' default route
     * @param routerWan the router's address on the public network
     * @param peers     the nodes on the LAN
     */
    record SiteSpec(String name, NatBehaviour nat, String subnet, String gateway, String routerLan, String routerWan,
                    List<PeerSpec> peers) {
        /**
         * The router's {@code FULL_CONE_HOSTS}: each peer with its overlay port, so that every peer gets the
         * inbound UDP of its own port (MASQUERADE keeps the source port, so that is its public port too).
         */
        String fullConeHosts() {
            return String.join(" ", peers.stream().map(PeerSpec::endpoint).toList());
        }

        /** The site's other peers at their discovery port: {@code peer}'s static {@code --site-peer} list. */
        String sitePeersOf(PeerSpec peer) {
            return String.join(",", peers.stream().filter(p -> !p.equals(peer))
                    .map(p -> p.ip() + ":" + SITE_PORT).toList());
        }
    }

    /** Every node, the bootstrap node first. */
    List<PeerSpec> allNodes() {
        return Stream.concat(Stream.of(bootstrap), sites.stream().flatMap(s -> s.peers().stream())).toList();
    }

    /**
     * The topology of issue 8: a home site behind a port-restricted NAT with {@code homePeers} peers, a home site
     * behind a symmetric NAT with as many, an office behind a full-cone NAT with {@code officePeers} peers. All in
     * 198.51.100.0/24, one /26 each (public .0, home1 .64, home2 .128, office .192); {@code docker-compose.yml}
     * uses the same plan. Never 192.0.2.0/24 or 203.0.113.0/24: Docker routes its networks on the host, and the CI
     * machines use those two ranges for their own uplink and package mirrors.
     * Every peer of a site has its own overlay port (4231, 4232, ...): MASQUERADE then keeps each port, so the
     * port-restricted and full-cone routers map endpoint-independently, and the full cone forwards each port to its
     * peer.
     */
    static Topology issue8(int homePeers, int officePeers) {
        String net = "198.51.100.";
        List<SiteSpec> sites = new ArrayList<>();
        sites.add(site(net, "home1", NatBehaviour.PORT_RESTRICTED, 64, 21, homePeers));
        sites.add(site(net, "home2", NatBehaviour.SYMMETRIC, 128, 22, homePeers));
        sites.add(site(net, "office", NatBehaviour.FULL_CONE, 192, 23, officePeers));
        // Phones: one on the public network, two in home1, one in home2, two in the office (addresses base + 40..).
        List<PhoneSpec> phones = List.of(
                new PhoneSpec("phone-bob", "bob", "public", net + "51"),
                new PhoneSpec("phone-alice", "alice", "home1", net + (64 + 40)),
                new PhoneSpec("phone-frank", "frank", "home1", net + (64 + 41)),
                new PhoneSpec("phone-carol", "carol", "home2", net + (128 + 40)),
                new PhoneSpec("phone-dave", "dave", "office", net + (192 + 40)),
                new PhoneSpec("phone-erin", "erin", "office", net + (192 + 41)));
        return new Topology(net + "0/26", net + "62", new PeerSpec("boot", net + "2", 4222), sites, phones);
    }

    private static SiteSpec site(String net, String name, NatBehaviour nat, int base, int wanHost, int peers) {
        List<PeerSpec> list = new ArrayList<>();
        for (int i = 0; i < peers; i++) {
            list.add(new PeerSpec(name + "-" + (char) ('a' + i), net + (base + 11 + i), 4231 + i));
        }
        return new SiteSpec(name, nat, net + base + "/26", net + (base + 62), net + (base + 1), net + wanHost,
                List.copyOf(list));
    }
}
