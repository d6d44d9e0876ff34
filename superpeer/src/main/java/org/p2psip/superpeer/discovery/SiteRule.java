package org.p2psip.superpeer.discovery;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Two peers belong to the same site when they share a server-reflexive IP address (the same NAT; the port is
 * ignored because a symmetric NAT maps each peer's flows to different ports), or when neither has detected a NAT
 * (none found, or NAT discovery not done: peers that cannot tell are taken to be on the LAN they share) and their
 * first overlay addresses sit in the same subnet (the smaller of the two prefix lengths).
 */
public final class SiteRule {
    private SiteRule() {}

    public static boolean sameSite(Announcement a, Announcement b) {
        if (a.nodeId().equals(b.nodeId())) {
            return true;
        }
        if (a.reflexive() != null && b.reflexive() != null
                && a.reflexive().getAddress().equals(b.reflexive().getAddress())) {
            return true;
        }
        if (!Boolean.TRUE.equals(a.nat().natDetected()) && !Boolean.TRUE.equals(b.nat().natDetected())) {
            InetSocketAddress x = a.overlayAddresses().get(0);
            InetSocketAddress y = b.overlayAddresses().get(0);
            int prefix = Math.min(a.prefixLength(), b.prefixLength());
            return sameSubnet(x.getAddress(), y.getAddress(), prefix);
        }
        return false;
    }

    static boolean sameSubnet(InetAddress x, InetAddress y, int prefix) {
        byte[] p = x.getAddress();
        byte[] q = y.getAddress();
        if (p.length != q.length || prefix > p.length * 8) {
            return false;
        }
        for (int i = 0; i < prefix; i++) {
            int mask = 0x80 >>> (i % 8);
            if ((p[i / 8] & mask) != (q[i / 8] & mask)) {
                return false;
            }
        }
        return true;
    }
}
