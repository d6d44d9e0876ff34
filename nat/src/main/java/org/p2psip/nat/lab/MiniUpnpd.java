package org.p2psip.nat.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Runs Debian's miniupnpd (the iptables build, miniupnpd-iptables) in a {@link NatType#UPNP} site's router namespace.
 *
 * <p>miniupnpd-iptables writes its DNAT and filter rules through libiptc, i.e. into the legacy x_tables, while the
 * lab's own rules go through {@code iptables} (the nf_tables backend on Debian 12). Both sets of hooks run, so the
 * lab creates the chains miniupnpd expects (what its iptables_init.sh does) with {@code iptables-legacy}; a packet
 * that miniupnpd's DNAT rewrote carries conntrack status DNAT, which the lab's forward rule admits.
 *
 * <p>miniupnpd refuses to map ports when its WAN address is reserved (every documentation range is), unless its STUN
 * test shows an unfiltered WAN: the config sets {@code ext_perform_stun} against the lab's RFC 5780 STUN server.
 */
final class MiniUpnpd {
    static final String READY = "Listening for NAT-PMP/PCP traffic on port 5351";
    static final String ENABLED = "Port forwarding is now enabled";

    private final NatLab lab;
    private final List<Path> dirs = new ArrayList<>();

    MiniUpnpd(NatLab lab) {
        this.lab = lab;
    }

    void start(Site site, int index, InetSocketAddress stun) {
        String ns = site.routerNamespace();
        for (List<String> rule : chains()) {
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, "iptables-legacy", "-w"));
            cmd.addAll(rule);
            NatLab.Shell.run(cmd);
        }
        Path dir;
        try {
            dir = Files.createTempDirectory(lab.prefix() + "-upnp" + index + "-");
            synchronized (dirs) {
                dirs.add(dir);
            }
            Files.writeString(dir.resolve("miniupnpd.conf"), config(site, stun, dir), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new LabException("cannot write the miniupnpd config: " + e.getMessage());
        }
        Process p = lab.spawn(ns, List.of("miniupnpd", "-d", "-f", dir.resolve("miniupnpd.conf").toString(),
                "-P", dir.resolve("miniupnpd.pid").toString()));
        ProcessLog log = new ProcessLog(p, "miniupnpd" + index);
        site.upnpLog = log;
        log.await(l -> l.contains(READY), l -> l.contains("Port forwarding is now disabled")
                || l.contains("EXITING") || l.contains("Error:") || l.contains("Error reading"), 40, "miniupnpd in " + ns);
        if (log.lines().stream().noneMatch(l -> l.contains(ENABLED))) {
            throw new LabException("miniupnpd in " + ns + " started with port forwarding disabled:\n"
                    + String.join("\n", log.lines()));
        }
    }

    /** The chains miniupnpd adds its rules to, hooked as its iptables_init.sh hooks them. */
    static List<List<String>> chains() {
        return List.of(
                List.of("-t", "nat", "-N", "MINIUPNPD"),
                List.of("-t", "nat", "-A", "PREROUTING", "-i", "wan0", "-j", "MINIUPNPD"),
                List.of("-t", "nat", "-N", "MINIUPNPD-POSTROUTING"),
                List.of("-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MINIUPNPD-POSTROUTING"),
                List.of("-t", "mangle", "-N", "MINIUPNPD"),
                List.of("-t", "mangle", "-A", "PREROUTING", "-i", "wan0", "-j", "MINIUPNPD"),
                List.of("-t", "filter", "-N", "MINIUPNPD"),
                List.of("-t", "filter", "-A", "FORWARD", "-i", "wan0", "!", "-o", "wan0", "-j", "MINIUPNPD"));
    }

    /**
     * The daemon's configuration: WAN wan0, LAN lan0, all three protocols, secure mode (a client maps only to its
     * own address), mappings allowed only for the site's /27 and ports 1024-65535, PCP lifetimes from 1 s (so tests
     * can watch renewals), and files in the lab's own directory.
     */
    static String config(Site site, InetSocketAddress stun, Path dir) {
        byte[] h = site.hostAddress().getAddress();
        String lan = String.format(Locale.ROOT, "%d.%d.%d.%d/27", h[0] & 0xFF, h[1] & 0xFF, h[2] & 0xFF,
                h[3] & 0xE0);
        return String.join("\n",
                "ext_ifname=wan0",
                "listening_ip=lan0",
                "http_port=0",
                "enable_natpmp=yes",
                "enable_upnp=yes",
                "ipv6_disable=yes",
                "ext_perform_stun=yes",
                "ext_stun_host=" + stun.getAddress().getHostAddress(),
                "ext_stun_port=" + stun.getPort(),
                "secure_mode=yes",
                "system_uptime=no",
                "notify_interval=60",
                "clean_ruleset_interval=600",
                "min_lifetime=1",
                "max_lifetime=86400",
                "uuid=" + UUID.randomUUID(),
                "lease_file=" + dir.resolve("upnp.leases"),
                "allow 1024-65535 " + lan + " 1024-65535",
                "deny 0-65535 0.0.0.0/0 0-65535",
                "");
    }

    /** The legacy nat table's MINIUPNPD chain of a UPnP site: one line per mapping miniupnpd installed. */
    static String natChain(NatLab lab, Site site) {
        return lab.exec(site.routerNamespace(), List.of("iptables-legacy", "-w", "-t", "nat", "-S", "MINIUPNPD"));
    }

    void deleteFiles() {
        List<Path> copy;
        synchronized (dirs) {
            copy = new ArrayList<>(dirs);
            dirs.clear();
        }
        for (Path d : copy) {
            try (Stream<Path> s = Files.walk(d)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException | UncheckedIOException ignored) {
                // best effort
            }
        }
    }

    /**
     * Deletes the temporary directories of a dead lab run with this namespace prefix ({@code p2pnat-PID-XXXX}):
     * miniupnpd's ({@code -upnp}) and the nfq-delay build ({@code -nfqdelay}).
     */
    static void deleteLeftoverDirs(String labPrefix) {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> s = Files.list(tmp)) {
            s.filter(d -> d.getFileName().toString().startsWith(labPrefix + "-") && Files.isDirectory(d))
                    .forEach(d -> {
                        try (Stream<Path> w = Files.walk(d)) {
                            w.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                        } catch (IOException | UncheckedIOException ignored) {
                            // best effort
                        }
                    });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }

    static String awaitLine(Process p, Predicate<String> match, int timeoutSeconds, String what) {
        return new ProcessLog(p, "stun").await(match, l -> false, timeoutSeconds, what);
    }

}
