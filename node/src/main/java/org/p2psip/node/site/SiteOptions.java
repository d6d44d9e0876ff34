package org.p2psip.node.site;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.p2psip.superpeer.discovery.LanDiscovery;
import org.p2psip.superpeer.discovery.Preference;

/**
 * How a peer takes part in its site ({@code --role}, {@code --site-peer}, {@code --site-port},
 * {@code --site-multicast}, {@code --site-preference}).
 *
 * @param mode       {@link Mode#SUPERPEER}: a plain overlay node, no site (the default); {@link Mode#AUTO}: take part
 *                   in the site's election; {@link Mode#LEAF}: take part, never stand for election
 * @param peers      other peers' discovery addresses (a static list, for LANs where multicast is blocked); unresolved
 *                   names are resolved at start
 * @param port       the UDP port of LAN discovery (announcements, connect-back); every peer of a site using
 *                   multicast must use the same one
 * @param multicast  announce to and listen on the LAN multicast groups ({@value LanDiscovery#GROUP_V4},
 *                   {@code ff02::4242:5350}) of the interface of the bound address
 * @param preference with {@link Mode#AUTO}: {@link Preference#AUTO} (the score decides) or {@link Preference#ALWAYS}
 *                   (rank above every AUTO candidate)
 */
public record SiteOptions(Mode mode, List<InetSocketAddress> peers, int port, boolean multicast, Preference preference) {
    /** The default discovery port: {@value LanDiscovery#PORT}. */
    public static final int DEFAULT_PORT = LanDiscovery.PORT;

    /** The peer's role setting. */
    public enum Mode {
        SUPERPEER, AUTO, LEAF;

        /** Parses {@code auto}, {@code superpeer} or {@code leaf} (any case); a clear error otherwise. */
        public static Mode parse(String s) {
            try {
                return valueOf(s.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("role must be 'auto', 'superpeer' or 'leaf', not '" + s + "'");
            }
        }
    }

    public SiteOptions {
        Objects.requireNonNull(mode, "mode");
        peers = List.copyOf(peers);
        Objects.requireNonNull(preference, "preference");
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("the site discovery port must be within 0..65535, not " + port);
        }
        if (mode == Mode.LEAF && preference == Preference.ALWAYS) {
            throw new IllegalArgumentException("site-preference 'always' contradicts role 'leaf' (a leaf never stands "
                    + "for election); use role 'auto' to prefer this peer as superpeer");
        }
    }

    /** A plain superpeer: no site, no election (what a peer does without site settings). */
    public static SiteOptions superpeer() {
        return new SiteOptions(Mode.SUPERPEER, List.of(), DEFAULT_PORT, true, Preference.AUTO);
    }

    /** Takes part in the site's election, with a static list of other site peers and multicast on or off. */
    public static SiteOptions auto(List<InetSocketAddress> peers, int port, boolean multicast) {
        return new SiteOptions(Mode.AUTO, peers, port, multicast, Preference.AUTO);
    }

    /** A leaf: takes part in the site but never stands for election. */
    public static SiteOptions leaf(List<InetSocketAddress> peers, int port, boolean multicast) {
        return new SiteOptions(Mode.LEAF, peers, port, multicast, Preference.NEVER);
    }

    /** Whether the peer runs a site peer (discovery, election, leaf links) rather than a plain overlay node. */
    public boolean siteMode() {
        return mode != Mode.SUPERPEER;
    }

    /** What the peer announces: NEVER for a leaf, else the configured preference. */
    public Preference effectivePreference() {
        return mode == Mode.LEAF ? Preference.NEVER : preference;
    }

    /** The same with another preference (AUTO or ALWAYS; a leaf keeps NEVER). */
    public SiteOptions withPreference(Preference p) {
        return new SiteOptions(mode, peers, port, multicast, mode == Mode.LEAF && p != Preference.ALWAYS ? Preference.NEVER : p);
    }
}
