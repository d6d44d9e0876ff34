package org.p2psip.nat.lab;

import java.net.InetAddress;

/** A NAT site of a {@link NatLab}: a router namespace and one host namespace behind it. */
public final class Site {
    private final NatLab lab;
    private final String name;
    private final NatType type;
    private final String routerNamespace;
    private final String hostNamespace;
    private final InetAddress wanAddress;
    private final InetAddress routerLanAddress;
    private final InetAddress hostAddress;
    /** miniupnpd's output on a {@link NatType#UPNP} site, else null. */
    volatile ProcessLog upnpLog;

    Site(NatLab lab, String name, NatType type, String routerNamespace, String hostNamespace, InetAddress wanAddress,
            InetAddress routerLanAddress, InetAddress hostAddress) {
        this.lab = lab;
        this.name = name;
        this.type = type;
        this.routerNamespace = routerNamespace;
        this.hostNamespace = hostNamespace;
        this.wanAddress = wanAddress;
        this.routerLanAddress = routerLanAddress;
        this.hostAddress = hostAddress;
    }

    public String name() {
        return name;
    }

    public NatType type() {
        return type;
    }

    public String routerNamespace() {
        return routerNamespace;
    }

    public String hostNamespace() {
        return hostNamespace;
    }

    /** The router's address on the public segment: what the host's traffic is translated to. */
    public InetAddress wanAddress() {
        return wanAddress;
    }

    public InetAddress routerLanAddress() {
        return routerLanAddress;
    }

    public InetAddress hostAddress() {
        return hostAddress;
    }

    /**
     * Sets the router's conntrack UDP timeouts (nf_conntrack_udp_timeout and nf_conntrack_udp_timeout_stream, both
     * per network namespace): how long an idle UDP mapping lives. An address-restricted router's memory of
     * destinations keeps the timeout given when the site was built.
     */
    public void setUdpTimeout(int seconds) {
        lab.writeProc(routerNamespace, "net/netfilter/nf_conntrack_udp_timeout", String.valueOf(seconds));
        lab.writeProc(routerNamespace, "net/netfilter/nf_conntrack_udp_timeout_stream", String.valueOf(seconds));
    }

    public int udpTimeout() {
        return Integer.parseInt(lab.readProc(routerNamespace, "net/netfilter/nf_conntrack_udp_timeout"));
    }

    /** The recent output of the site's miniupnpd (empty unless the site is {@link NatType#UPNP}). */
    public java.util.List<String> upnpLog() {
        ProcessLog l = upnpLog;
        return l == null ? java.util.List.of() : l.lines();
    }

    /**
     * The port-forward rules miniupnpd has installed (its legacy nat chain, {@code iptables -S} format), so a test can
     * see a mapping appear and go; only for {@link NatType#UPNP} sites.
     */
    public String upnpRules() {
        if (type != NatType.UPNP) {
            throw new IllegalStateException(name + " is not a UPnP site");
        }
        return MiniUpnpd.natChain(lab, this);
    }

    /** Applies delay and loss on the router (see {@link Impairment}); {@link Impairment#NONE} removes them. */
    public void impair(Impairment impairment) {
        lab.impair(this, impairment);
    }

    @Override
    public String toString() {
        return "Site[" + name + ", " + type + ", wan " + wanAddress.getHostAddress() + ", host "
                + hostAddress.getHostAddress() + "]";
    }
}
