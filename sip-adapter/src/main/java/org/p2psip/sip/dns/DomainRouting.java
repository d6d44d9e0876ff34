package org.p2psip.sip.dns;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the proxy looks for the target of a request, per domain of its Request-URI, in order: the overlay (a DHT
 * lookup of the AOR's contact records) and/or DNS (RFC 3263). Domains the overlay serves use the overlay only by
 * default; other domains use DNS first, then the overlay (as the seed argues: a domain with DNS records for SIP runs
 * its own servers). Any domain can be given its own order, e.g. {@code example.com=overlay,dns}.
 */
public record DomainRouting(Map<String, List<Lookup>> perDomain, List<Lookup> served, List<Lookup> foreign) {
    /** A place to look a target up. */
    public enum Lookup { OVERLAY, DNS }

    public static final DomainRouting DEFAULT = new DomainRouting(Map.of(), List.of(Lookup.OVERLAY),
            List.of(Lookup.DNS, Lookup.OVERLAY));

    public DomainRouting {
        TreeMap<String, List<Lookup>> lower = new TreeMap<>();
        perDomain.forEach((d, l) -> lower.put(d.toLowerCase(Locale.ROOT), checked(l, d)));
        perDomain = Map.copyOf(lower);
        served = checked(served, "served domains");
        foreign = checked(foreign, "other domains");
    }

    private static List<Lookup> checked(List<Lookup> order, String what) {
        if (order.isEmpty() || order.stream().distinct().count() != order.size()) {
            throw new IllegalArgumentException("the lookup order of " + what + " must name overlay and/or dns, each"
                    + " at most once: " + order);
        }
        return List.copyOf(order);
    }

    /** This routing with {@code domain} looked up in {@code order}. */
    public DomainRouting with(String domain, List<Lookup> order) {
        Map<String, List<Lookup>> m = new TreeMap<>(perDomain);
        m.put(domain.toLowerCase(Locale.ROOT), order);
        return new DomainRouting(m, served, foreign);
    }

    /**
     * Parses {@code domain=lookup[,lookup]} (lookups {@code overlay}, {@code dns}), as a configuration file or command
     * line gives it.
     */
    public DomainRouting with(String spec) {
        int eq = spec.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("a domain's lookup order is domain=overlay,dns (or one of them), not '"
                    + spec + "'");
        }
        List<Lookup> order = new java.util.ArrayList<>();
        for (String s : spec.substring(eq + 1).split(",")) {
            try {
                order.add(Lookup.valueOf(s.strip().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown lookup '" + s.strip() + "' in '" + spec
                        + "': use overlay and/or dns");
            }
        }
        return with(spec.substring(0, eq).strip(), order);
    }

    /** The lookups for a Request-URI's domain, in order. */
    public List<Lookup> orderFor(String domain, boolean servedByOverlay) {
        List<Lookup> own = perDomain.get(domain.toLowerCase(Locale.ROOT));
        return own != null ? own : servedByOverlay ? served : foreign;
    }
}
