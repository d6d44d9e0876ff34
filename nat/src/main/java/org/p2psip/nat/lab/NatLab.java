package org.p2psip.nat.lab;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A NAT lab of real kernel NATs in network namespaces: a public segment (203.0.113.0/24, a bridge in its own
 * namespace), public hosts on it, and sites, each a router namespace (WAN on the public segment, netfilter NAT of
 * one {@link NatType}) with one host namespace behind it on a /27 of 192.0.2.0/24 or 198.51.100.0/24.
 *
 * <p>Only the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24 are ever assigned, and nothing
 * is added to the root namespace: every veth pair is created directly inside its two namespaces. Namespace names
 * carry a per-run prefix {@code p2pnat-<pid>-<random>}. {@link #close} (and a shutdown hook, should the JVM exit
 * first) kills the processes started in the lab and deletes its namespaces; {@link #create} first removes the
 * namespaces of earlier runs whose process is dead.
 *
 * <p>Needs root, iproute2 ({@code ip}, {@code tc}) and iptables; delay without the kernel's sch_netem also gcc and
 * libnetfilter-queue-dev (the lab compiles its NFQUEUE delay program, see {@link #delayEverySegment}).
 */
public final class NatLab implements AutoCloseable {
    static final String NAME_ROOT = "p2pnat";
    private static final Pattern OUR_NAMESPACE = Pattern.compile("^(" + NAME_ROOT + "-(\\d+)-[0-9a-f]{4})-\\S+");
    private static final int MAX_SITES = 16;
    private static final int MAX_PUBLIC_HOSTS = 90;
    private static final int COMMAND_TIMEOUT_SECONDS = 20;

    private final String prefix;
    private final String publicNs;
    private final List<String> namespaces = Collections.synchronizedList(new ArrayList<>());
    private final List<Process> processes = Collections.synchronizedList(new ArrayList<>());
    private final List<Site> sites = new ArrayList<>();
    private final List<PublicHost> publicHosts = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Thread shutdownHook;
    private int nextPublicHostOctet = 2;
    private Boolean netem;
    private final MiniUpnpd upnp = new MiniUpnpd(this);
    private final NfqDelay nfqDelay = new NfqDelay(this);
    private PublicHost stun;

    private NatLab(String prefix) {
        this.prefix = prefix;
        this.publicNs = prefix + "-pub";
        this.shutdownHook = new Thread(this::teardown, "natlab-teardown-" + prefix);
    }

    /** Problems that prevent building a lab on this machine (empty when it can). Does not change anything. */
    public static List<String> prerequisiteProblems() {
        List<String> problems = new ArrayList<>();
        for (String tool : List.of("ip", "iptables", "tc")) {
            if (which(tool) == null) {
                problems.add("'" + tool + "' not found (Debian packages iproute2, iptables)");
            }
        }
        try {
            String uid = Shell.run(List.of("id", "-u")).trim();
            if (!uid.equals("0")) {
                problems.add("not root (uid " + uid + "): network namespaces and netfilter need root");
            }
        } catch (LabException e) {
            problems.add("cannot run 'id -u': " + e.getMessage());
        }
        return problems;
    }

    /**
     * Problems that prevent a {@link NatType#UPNP} site (empty when it can be built): the lab's own prerequisites
     * plus miniupnpd (Debian package miniupnpd-iptables) and iptables-legacy, whose tables it writes.
     */
    public static List<String> upnpPrerequisiteProblems() {
        List<String> problems = prerequisiteProblems();
        if (which("miniupnpd") == null) {
            problems.add("'miniupnpd' not found (Debian package miniupnpd-iptables)");
        }
        if (which("iptables-legacy") == null) {
            problems.add("'iptables-legacy' not found (Debian package iptables): miniupnpd-iptables uses the legacy"
                    + " tables");
        }
        return problems;
    }

    /**
     * Problems that prevent the lab from delaying packets where the kernel has no sch_netem (empty when it can): the
     * NFQUEUE program nfq-delay is compiled at run time and needs gcc and libnetfilter-queue-dev.
     */
    public static List<String> delayFallbackPrerequisiteProblems() {
        return NfqDelay.prerequisiteProblems();
    }

    /** Builds the public segment. The caller must {@link #close} the lab (try-with-resources). */
    public static NatLab create() {
        List<String> problems = prerequisiteProblems();
        if (!problems.isEmpty()) {
            throw new LabException("cannot build the NAT lab: " + String.join("; ", problems));
        }
        removeLeftovers();
        byte[] r = new byte[2];
        new SecureRandom().nextBytes(r);
        String prefix = String.format(Locale.ROOT, "%s-%d-%02x%02x", NAME_ROOT, ProcessHandle.current().pid(), r[0], r[1]);
        NatLab lab = new NatLab(prefix);
        Runtime.getRuntime().addShutdownHook(lab.shutdownHook);
        try {
            lab.addNamespace(lab.publicNs);
            lab.ip(lab.publicNs, "link", "add", "br0", "type", "bridge");
            lab.ip(lab.publicNs, "link", "set", "br0", "up");
        } catch (RuntimeException e) {
            lab.close();
            throw e;
        }
        return lab;
    }

    /**
     * Deletes namespaces left by earlier lab runs whose JVM is gone (a killed test run), after killing the processes
     * still running in them (a namespace lives on while a process is in it: a daemon such as miniupnpd would survive
     * its lab), and the temporary directories of those runs.
     */
    public static void removeLeftovers() {
        for (String ns : listNamespaces()) {
            Matcher m = OUR_NAMESPACE.matcher(ns);
            if (m.matches()) {
                long pid = Long.parseLong(m.group(2));
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                killProcessesIn(ns);
                MiniUpnpd.deleteLeftoverDirs(m.group(1));
                try {
                    Shell.run(List.of("ip", "netns", "del", ns));
                } catch (LabException ignored) {
                    // someone else removed it
                }
            }
        }
    }

    private static void killProcessesIn(String ns) {
        try {
            for (String p : Shell.run(List.of("ip", "netns", "pids", ns)).trim().split("\\s+")) {
                if (p.matches("[0-9]+")) {
                    ProcessHandle.of(Long.parseLong(p)).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
        } catch (LabException ignored) {
            // gone meanwhile
        }
    }

    /** Names from {@code ip netns list} (first word of each line). */
    public static List<String> listNamespaces() {
        List<String> out = new ArrayList<>();
        for (String line : Shell.run(List.of("ip", "netns", "list")).split("\n")) {
            String t = line.trim();
            if (!t.isEmpty()) {
                out.add(t.split("\\s+")[0]);
            }
        }
        return out;
    }

    public String prefix() {
        return prefix;
    }

    /** The namespaces this lab created (public segment first). */
    public List<String> namespaces() {
        synchronized (namespaces) {
            return List.copyOf(namespaces);
        }
    }

    // ------------------------------------------------------------------------------------------------ building

    /** A namespace on the public segment with {@code addressCount} consecutive addresses in 203.0.113.2-99. */
    public synchronized PublicHost addPublicHost(String name, int addressCount) {
        checkOpen();
        if (addressCount < 1 || nextPublicHostOctet + addressCount > 2 + MAX_PUBLIC_HOSTS) {
            throw new IllegalArgumentException("public host addresses exhausted");
        }
        int k = publicHosts.size();
        String ns = prefix + "-p" + k + "-" + safe(name);
        addNamespace(ns);
        String bridgePort = "ph" + k;
        veth(ns, "eth0", publicNs, bridgePort);
        ip(publicNs, "link", "set", bridgePort, "master", "br0");
        ip(publicNs, "link", "set", bridgePort, "up");
        List<InetAddress> addresses = new ArrayList<>();
        for (int i = 0; i < addressCount; i++) {
            InetAddress a = address("203.0.113." + nextPublicHostOctet++);
            ip(ns, "addr", "add", a.getHostAddress() + "/24", "dev", "eth0");
            addresses.add(a);
        }
        ip(ns, "link", "set", "eth0", "up");
        PublicHost h = new PublicHost(ns, addresses);
        publicHosts.add(h);
        return h;
    }

    /**
     * A site: a router namespace whose WAN address is 203.0.113.(101+i) and whose LAN is the i-th /27 (192.0.2.0/27,
     * .32/27, ... .224/27, then 198.51.100.0/27 ...; 16 sites at most), with the router at .1 and one host at .2 of it.
     *
     * @param udpTimeoutSeconds the router's conntrack UDP timeouts (both unreplied and stream), i.e. how long an
     *     idle UDP mapping lives; also how long an address-restricted router remembers a destination
     */
    public synchronized Site addSite(String name, NatType type, int udpTimeoutSeconds) {
        checkOpen();
        if (sites.size() >= MAX_SITES) {
            throw new IllegalStateException("at most " + MAX_SITES + " sites per lab");
        }
        if (udpTimeoutSeconds < 1) {
            throw new IllegalArgumentException("UDP timeout must be at least 1 s");
        }
        int i = sites.size();
        // a /27 per site: 8 in each of the two LAN ranges
        String base = i < 8 ? "192.0.2." + (32 * i) : "198.51.100." + (32 * (i - 8));
        String lanNet = base.substring(0, base.lastIndexOf('.') + 1);
        int lanBase = Integer.parseInt(base.substring(base.lastIndexOf('.') + 1));
        InetAddress routerLan = address(lanNet + (lanBase + 1));
        InetAddress host = address(lanNet + (lanBase + 2));
        InetAddress wan = address("203.0.113." + (101 + i));
        String router = prefix + "-s" + i + "r-" + safe(name);
        String hostNs = prefix + "-s" + i + "h-" + safe(name);
        addNamespace(router);
        addNamespace(hostNs);
        String bridgePort = "rt" + i;
        veth(router, "wan0", publicNs, bridgePort);
        ip(publicNs, "link", "set", bridgePort, "master", "br0");
        ip(publicNs, "link", "set", bridgePort, "up");
        ip(router, "addr", "add", wan.getHostAddress() + "/24", "dev", "wan0");
        ip(router, "link", "set", "wan0", "up");
        veth(router, "lan0", hostNs, "eth0");
        ip(router, "addr", "add", routerLan.getHostAddress() + "/27", "dev", "lan0");
        ip(router, "link", "set", "lan0", "up");
        ip(hostNs, "addr", "add", host.getHostAddress() + "/27", "dev", "eth0");
        ip(hostNs, "link", "set", "eth0", "up");
        ip(hostNs, "route", "add", "default", "via", routerLan.getHostAddress());
        writeProc(router, "net/ipv4/ip_forward", "1");
        Site site = new Site(this, name, type, router, hostNs, wan, routerLan, host);
        site.setUdpTimeout(udpTimeoutSeconds);
        for (List<String> rule : natRules(type, host, udpTimeoutSeconds)) {
            iptables(router, rule);
        }
        sites.add(site);
        if (type == NatType.UPNP) {
            upnp.start(site, i, stunServer());
        }
        return site;
    }

    /**
     * The netfilter rules of one NAT behaviour, as iptables argument lists (see nat/README.md for why each works).
     * Inbound traffic is forwarded to the LAN only when conntrack knows it (a reply) or a DNAT rule sent it there.
     */
    static List<List<String>> natRules(NatType type, InetAddress host, int udpTimeoutSeconds) {
        String h = host.getHostAddress();
        List<List<String>> rules = new ArrayList<>();
        rules.add(List.of("-A", "FORWARD", "-i", "lan0", "-o", "wan0", "-j", "ACCEPT"));
        rules.add(List.of("-A", "FORWARD", "-i", "wan0", "-o", "lan0", "-m", "conntrack", "--ctstate",
                "ESTABLISHED,RELATED,DNAT", "-j", "ACCEPT"));
        rules.add(List.of("-A", "FORWARD", "-i", "wan0", "-o", "lan0", "-j", "DROP"));
        // Unsolicited UDP to the router itself is dropped in INPUT, as a router's firewall does. Otherwise it would
        // reach the local stack (no socket, an ICMP error) and its conntrack entry would be confirmed: a later
        // outbound flow to that sender from the port it probed would then find the translated tuple taken and get
        // another port, so a port-restricted cone would act symmetric during ICE hole punching.
        // Not on a UPnP router: miniupnpd's own STUN test (ext_perform_stun) needs the answers to its CHANGE-REQUESTs,
        // which arrive from another address and port, to reach it; dropped, it would turn port forwarding off.
        if (type != NatType.UPNP) {
            rules.add(List.of("-A", "INPUT", "-i", "wan0", "-p", "udp", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP"));
        }
        switch (type) {
            case FULL_CONE -> {
                rules.add(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"));
                rules.add(List.of("-t", "nat", "-A", "PREROUTING", "-i", "wan0", "-p", "udp", "-j", "DNAT",
                        "--to-destination", h));
            }
            case ADDRESS_RESTRICTED -> {
                rules.add(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"));
                rules.add(List.of("-t", "mangle", "-A", "FORWARD", "-i", "lan0", "-o", "wan0", "-p", "udp",
                        "-m", "recent", "--name", "sent_to", "--rdest", "--set"));
                rules.add(List.of("-t", "nat", "-A", "PREROUTING", "-i", "wan0", "-p", "udp",
                        "-m", "recent", "--name", "sent_to", "--rsource", "--rcheck",
                        "--seconds", String.valueOf(udpTimeoutSeconds), "-j", "DNAT", "--to-destination", h));
            }
            case PORT_RESTRICTED, UPNP ->
                    rules.add(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"));
            case SYMMETRIC -> rules.add(List.of("-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE",
                    "--random-fully"));
        }
        return rules;
    }

    /** Applies (or with {@link Impairment#NONE} removes) delay and loss on a site router's two interfaces. */
    void impair(Site site, Impairment imp) {
        checkOpen();
        String ns = site.routerNamespace();
        for (String dev : List.of("wan0", "lan0")) {
            tryRun(List.of("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"));
        }
        tryRun(List.of("ip", "netns", "exec", ns, "iptables", "-F", "IMPAIR"));
        boolean netemOk = netemAvailable();
        if (!netemOk) {
            nfqDelay.stop(ns);
        }
        if (imp.oneWayDelay().isZero() && imp.loss() == 0) {
            return;
        }
        if (netemOk) {
            for (String dev : List.of("wan0", "lan0")) {
                Shell.run(List.of("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", dev, "root", "netem",
                        "delay", imp.oneWayDelay().toNanos() / 1000 + "us",
                        "loss", String.format(Locale.ROOT, "%.4f%%", imp.loss() * 100)));
            }
            return;
        }
        // No netem: delay with the NFQUEUE program on every packet the router receives (so each crossing of the
        // router is delayed once, as netem on both of its interfaces would).
        if (!imp.oneWayDelay().isZero()) {
            nfqDelay.start(ns, imp.oneWayDelay());
        }
        if (imp.loss() == 0) {
            return;
        }
        // No netem: loss with the statistic match, in its own chain so that it can be flushed.
        tryRun(List.of("ip", "netns", "exec", ns, "iptables", "-N", "IMPAIR"));
        if (!Shell.run(List.of("ip", "netns", "exec", ns, "iptables", "-S", "FORWARD")).contains("-j IMPAIR")) {
            Shell.run(List.of("ip", "netns", "exec", ns, "iptables", "-I", "FORWARD", "1", "-j", "IMPAIR"));
        }
        Shell.run(List.of("ip", "netns", "exec", ns, "iptables", "-A", "IMPAIR", "-m", "statistic", "--mode", "random",
                "--probability", String.format(Locale.ROOT, "%.6f", imp.loss()), "-j", "DROP"));
    }

    /**
     * Adds {@code oneWay} of delay to every segment of the lab: each site's LAN and the public segment, so a packet
     * from a site host to a public host is delayed twice (LAN, public), one between hosts of two sites three times
     * (LAN, public, LAN), one between two public hosts once. Applies to the sites and public hosts that exist now,
     * for the rest of the lab's life; do not combine with {@link Site#impair} delay on the same lab.
     *
     * <p>With sch_netem: netem on the sending interface of each segment (host and public hosts' eth0, the routers'
     * wan0 and lan0). Without it: the NFQUEUE program ({@code nfq-delay}) in every host, router and public host
     * namespace, on the packets it receives (see nat/README.md, "Delay and loss"). Both delay every IPv4 packet
     * (UDP of ICE, STUN, TURN and DTLS, and TCP such as the matrix's signaling relay).
     *
     * @throws LabException when neither netem nor the fallback's build prerequisites (gcc, libnetfilter-queue-dev)
     *     are there
     */
    public synchronized void delayEverySegment(Duration oneWay) {
        checkOpen();
        if (oneWay.isNegative() || oneWay.isZero()) {
            throw new IllegalArgumentException("delay must be positive: " + oneWay);
        }
        String d = oneWay.toNanos() / 1000 + "us";
        boolean useNetem = netemAvailable();
        List<String> receivers = new ArrayList<>();
        for (Site s : sites) {
            receivers.add(s.routerNamespace());
            receivers.add(s.hostNamespace());
            if (useNetem) {
                for (String dev : List.of("wan0", "lan0")) {
                    Shell.run(List.of("ip", "netns", "exec", s.routerNamespace(), "tc", "qdisc", "replace", "dev", dev,
                            "root", "netem", "delay", d));
                }
                Shell.run(List.of("ip", "netns", "exec", s.hostNamespace(), "tc", "qdisc", "replace", "dev", "eth0",
                        "root", "netem", "delay", d));
            }
        }
        for (PublicHost h : publicHosts) {
            receivers.add(h.namespace());
            if (useNetem) {
                Shell.run(List.of("ip", "netns", "exec", h.namespace(), "tc", "qdisc", "replace", "dev", "eth0",
                        "root", "netem", "delay", d));
            }
        }
        if (!useNetem) {
            for (String ns : receivers) {
                nfqDelay.start(ns, oneWay);
            }
        }
    }

    /** Whether the kernel has the netem queueing discipline (probed once, on the public segment's loopback). */
    public synchronized boolean netemAvailable() {
        if (netem == null) {
            Shell.run(List.of("ip", "netns", "exec", publicNs, "ip", "link", "set", "lo", "up"));
            netem = tryRun(List.of("ip", "netns", "exec", publicNs, "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                    "delay", "1ms"));
            if (netem) {
                tryRun(List.of("ip", "netns", "exec", publicNs, "tc", "qdisc", "del", "dev", "lo", "root"));
            }
        }
        return netem;
    }

    /**
     * The lab's RFC 5780 STUN server (two addresses on the public segment, started on first use). miniupnpd refuses
     * to map ports while its WAN address is in a reserved range, which the lab's documentation ranges are, unless a
     * STUN test (ext_perform_stun) shows that its WAN side is unfiltered; this server answers that test.
     */
    synchronized java.net.InetSocketAddress stunServer() {
        checkOpen();
        if (stun == null) {
            PublicHost h = addPublicHost("labstun", 2);
            String primary = h.addresses().get(0).getHostAddress() + ":3478";
            String alternate = h.addresses().get(1).getHostAddress() + ":3479";
            Process p = spawn(h.namespace(), javaCommand("org.p2psip.nat.stun.StunServerMain",
                    List.of(primary, alternate)));
            String ready = MiniUpnpd.awaitLine(p, line -> line.startsWith("ready "), 60, "the lab's STUN server");
            if (!ready.equals("ready primary=" + primary + " alternate=" + alternate)) {
                throw new LabException("the lab's STUN server did not start: " + ready);
            }
            stun = h;
        }
        return new java.net.InetSocketAddress(stun.addresses().get(0), 3478);
    }

    // ------------------------------------------------------------------------------------------------ running

    /** Runs a command inside {@code namespace} and returns its output; fails on a non-zero exit. */
    public String exec(String namespace, List<String> command) {
        checkOpen();
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(command);
        return Shell.run(full);
    }

    /**
     * Starts a long-running command inside {@code namespace} (stderr merged into stdout). The lab kills it on
     * {@link #close} if it is still running.
     */
    public Process spawn(String namespace, List<String> command) {
        checkOpen();
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(command);
        try {
            Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
            processes.add(p);
            return p;
        } catch (IOException e) {
            throw new LabException("cannot start " + full + ": " + e.getMessage());
        }
    }

    /**
     * A command line that runs {@code mainClass} in a small child JVM with this JVM's class path (under Maven
     * Surefire, the test class path).
     */
    public static List<String> javaCommand(String mainClass, List<String> args) {
        String java = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + "/bin/java");
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx96m", "-Xss512k", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-Xshare:auto", "-cp", cp, mainClass));
        cmd.addAll(args);
        return cmd;
    }

    // ------------------------------------------------------------------------------------------------ teardown

    /** Kills the lab's processes and deletes its namespaces. Idempotent; never throws. */
    @Override
    public void close() {
        teardown();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException | SecurityException shuttingDown) {
            // the hook is running or will
        }
    }

    private void teardown() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        String delayed = nfqDelay.stopAll();
        if (delayed != null) {
            System.err.println(delayed);
        }
        List<Process> procs;
        synchronized (processes) {
            procs = new ArrayList<>(processes);
        }
        for (Process p : procs) {
            p.descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }
        for (Process p : procs) {
            try {
                if (!p.waitFor(2, TimeUnit.SECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        List<String> ns = namespaces();
        for (int i = ns.size() - 1; i >= 0; i--) {
            tryRun(List.of("ip", "netns", "del", ns.get(i)));
        }
        upnp.deleteFiles();
        nfqDelay.deleteFiles();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("lab closed");
        }
    }

    private void addNamespace(String ns) {
        Shell.run(List.of("ip", "netns", "add", ns));
        namespaces.add(ns);
        ip(ns, "link", "set", "lo", "up");
    }

    private void veth(String nsA, String nameA, String nsB, String nameB) {
        Shell.run(List.of("ip", "link", "add", nameA, "netns", nsA, "type", "veth", "peer", "name", nameB, "netns", nsB));
    }

    void ip(String ns, String... args) {
        List<String> cmd = new ArrayList<>(List.of("ip", "-n", ns));
        cmd.addAll(List.of(args));
        Shell.run(cmd);
    }

    void iptables(String ns, List<String> rule) {
        List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns, "iptables", "-w"));
        cmd.addAll(rule);
        Shell.run(cmd);
    }

    /** Writes a sysctl through /proc/sys as seen from inside the namespace (what sysctl(8) does). */
    void writeProc(String ns, String key, String value) {
        if (!key.matches("[a-z0-9_/]+") || !value.matches("[0-9]+")) {
            throw new IllegalArgumentException("bad sysctl " + key + "=" + value);
        }
        Shell.run(List.of("ip", "netns", "exec", ns, "sh", "-c", "echo " + value + " > /proc/sys/" + key));
    }

    String readProc(String ns, String key) {
        return Shell.run(List.of("ip", "netns", "exec", ns, "cat", "/proc/sys/" + key)).trim();
    }

    private static boolean tryRun(List<String> cmd) {
        try {
            Shell.run(cmd);
            return true;
        } catch (LabException e) {
            return false;
        }
    }

    private static String safe(String name) {
        String s = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
        return s.isEmpty() ? "x" : s.substring(0, Math.min(12, s.length()));
    }

    /** Parses and checks that an address is in one of the three documentation ranges; the lab uses no other. */
    static InetAddress address(String dotted) {
        InetAddress a;
        try {
            a = InetAddress.getByName(dotted);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(dotted, e);
        }
        if (!isDocumentationAddress(a)) {
            throw new IllegalArgumentException(dotted + " is outside 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24");
        }
        return a;
    }

    static boolean isDocumentationAddress(InetAddress a) {
        if (!(a instanceof Inet4Address)) {
            return false;
        }
        byte[] b = a.getAddress();
        int x = b[0] & 0xFF;
        int y = b[1] & 0xFF;
        int z = b[2] & 0xFF;
        return (x == 192 && y == 0 && z == 2) || (x == 198 && y == 51 && z == 100) || (x == 203 && y == 0 && z == 113);
    }

    static String which(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            java.io.File f = new java.io.File(dir, tool);
            if (!dir.isEmpty() && f.isFile() && f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }

    /** Runs commands with a timeout; a non-zero exit is a {@link LabException} carrying the output. */
    static final class Shell {
        private Shell() {
        }

        static String run(List<String> cmd) {
            Process p;
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                String path = pb.environment().getOrDefault("PATH", "");
                pb.environment().put("PATH", path + ":/usr/sbin:/sbin");
                p = pb.start();
            } catch (IOException e) {
                throw new LabException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage());
            }
            try {
                p.getOutputStream().close();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new LabException("timed out: " + String.join(" ", cmd));
                }
                String text = new String(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new LabException("'" + String.join(" ", cmd) + "' exited " + p.exitValue() + ": " + text.trim());
                }
                return text;
            } catch (IOException e) {
                throw new LabException("reading output of " + String.join(" ", cmd) + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
                throw new LabException("interrupted: " + String.join(" ", cmd));
            }
        }
    }
}
