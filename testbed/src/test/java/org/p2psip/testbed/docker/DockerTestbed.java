package org.p2psip.testbed.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.ContainerNetwork;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;

/**
 * A running {@link Topology} in Docker: one bridge network per site and one public network, a router container per
 * site (LAN address at creation, then connected to the public network with its WAN address), and a node container
 * per peer whose default route goes through its site's router. Close it (try-with-resources) to remove every
 * container and network; there is no Ryuk, so a JVM that dies leaves them behind, and the next run removes
 * the leftovers of dead runs (their containers and networks carry the label {@value #LABEL} = the JVM's pid).
 */
final class DockerTestbed implements AutoCloseable {
    static final String LABEL = "org.p2psip.testbed.pid";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    /** A UDP conntrack entry: original src, dst, sport, dport, then the reply tuple's src, dst, sport, dport. */
    private static final Pattern CONNTRACK = Pattern.compile(
            "udp .*?src=(\\S+) dst=(\\S+) sport=(\\d+) dport=(\\d+) .*?src=(\\S+) dst=(\\S+) sport=(\\d+) dport=(\\d+)");

    private final Topology topology;
    private final TestbedImages images;
    private final String pid = String.valueOf(ProcessHandle.current().pid());
    private final DockerClient docker = DockerClientFactory.instance().client();
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final Map<String, Network> siteNetworks = new LinkedHashMap<>();
    private final Map<String, GenericContainer<?>> routers = new LinkedHashMap<>();
    private final Map<String, TestbedNode> nodes = new LinkedHashMap<>();
    private final Map<String, TestbedPhone> phones = new LinkedHashMap<>();
    private Network publicNetwork;

    private DockerTestbed(Topology topology, TestbedImages images) {
        this.topology = topology;
        this.images = images;
    }

    /** Creates the networks, starts the routers, then every node at once; closes what it made if that fails. */
    static DockerTestbed start(Topology topology, TestbedImages images) throws InterruptedException {
        DockerTestbed tb = new DockerTestbed(topology, images);
        tb.removeLeftoversOfDeadRuns();
        try {
            tb.startAll();
            return tb;
        } catch (RuntimeException | InterruptedException | Error e) {
            tb.close();
            throw e;
        }
    }

    private void startAll() throws InterruptedException {
        log("creating networks: public " + topology.publicSubnet() + ", " + topology.sites().size() + " sites");
        publicNetwork = network("public", topology.publicSubnet(), topology.publicGateway());
        for (Topology.SiteSpec s : topology.sites()) {
            siteNetworks.put(s.name(), network(s.name(), s.subnet(), s.gateway()));
        }
        List<GenericContainer<?>> routerList = new ArrayList<>();
        for (Topology.SiteSpec s : topology.sites()) {
            GenericContainer<?> r = container(images.router(), s.name() + "-router", siteNetworks.get(s.name()),
                    s.routerLan(), Map.of("net.ipv4.ip_forward", "1"))
                    .withEnv("NAT_TYPE", s.nat().envName())
                    .withEnv("LAN_SUBNET", s.subnet())
                    .withEnv("FULL_CONE_HOSTS", s.fullConeHosts())
                    .withEnv("WAN_IP", s.routerWan())
                    .waitingFor(Wait.forLogMessage(".*nat-rules: .* router for .* ready.*", 1)
                            .withStartupTimeout(START_TIMEOUT));
            routers.put(s.name(), r);
            routerList.add(r);
        }
        log("starting " + routerList.size() + " routers");
        startInParallel(routerList);
        for (Topology.SiteSpec s : topology.sites()) {
            connectWan(s);
        }
        List<GenericContainer<?>> nodeList = new ArrayList<>();
        Topology.PeerSpec boot = topology.bootstrap();
        nodeList.add(node(boot, "public", publicNetwork, null));
        for (Topology.SiteSpec s : topology.sites()) {
            for (Topology.PeerSpec p : s.peers()) {
                nodeList.add(node(p, s.name(), siteNetworks.get(s.name()), s.routerLan()));
            }
        }
        log("starting " + nodeList.size() + " nodes (one JVM each)");
        startInParallel(nodeList);
        log("all containers up");
    }

    /** Every node, the bootstrap node first. */
    List<TestbedNode> nodes() {
        return List.copyOf(nodes.values());
    }

    TestbedNode node(String name) {
        TestbedNode n = nodes.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no node " + name + " in the testbed; nodes: " + nodes.keySet());
        }
        return n;
    }

    /** The nodes of one site ({@code public} for the bootstrap node). */
    List<TestbedNode> site(String site) {
        return nodes.values().stream().filter(n -> n.site().equals(site)).toList();
    }

    Topology topology() {
        return topology;
    }

    /** {@code docker kill} of a node's container: SIGKILL, no goodbye. */
    void kill(String name) {
        log("docker kill " + name);
        docker.killContainerCmd(node(name).container().getContainerId()).exec();
    }

    /** Disconnects a site's router from the public network: the whole site is cut off. */
    void disconnect(String site) {
        log("disconnecting " + site + "-router from the public network");
        docker.disconnectFromNetworkCmd().withNetworkId(publicNetwork.getId())
                .withContainerId(routers.get(site).getContainerId()).exec();
    }

    /** Connects a site's router to the public network again, with the same WAN address. */
    void reconnect(String site) {
        log("reconnecting " + site + "-router to the public network");
        connectWan(spec(site));
    }

    /**
     * Starts every phone of the topology at once (the phone image, waiting to be driven by {@code docker exec}),
     * each on its network with its default route through its site's router.
     */
    void startPhones() throws InterruptedException {
        List<GenericContainer<?>> list = new ArrayList<>();
        for (Topology.PhoneSpec p : topology.phones()) {
            boolean pub = p.site().equals("public");
            GenericContainer<?> c = container(images.phone(), p.name(), pub ? publicNetwork : siteNetworks.get(p.site()),
                    p.ip(), Map.of())
                    .withEnv("PHONE_USER", p.user())
                    .withEnv("PHONE_PASSWORD", p.password())
                    .withEnv("PHONE_DOMAIN", Topology.SIP_DOMAIN)
                    .waitingFor(Wait.forLogMessage(".*phone-entrypoint: .* ready.*", 1).withStartupTimeout(START_TIMEOUT));
            if (!pub) {
                c.withEnv("PHONE_GATEWAY", spec(p.site()).routerLan());
            }
            phones.put(p.name(), new TestbedPhone(p, c));
            list.add(c);
        }
        log("starting " + list.size() + " phones");
        startInParallel(list);
    }

    /** The phone of {@code user}. */
    TestbedPhone phone(String user) {
        return phones.values().stream().filter(p -> p.user().equals(user)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no phone of " + user + "; started: " + phones.keySet()));
    }

    /**
     * The public ports a site's router gives {@code peer}, per destination ({@code ip:port}), read from the
     * router's conntrack table ({@code /proc/net/nf_conntrack}): for each UDP entry from the peer's address and
     * port, the destination port of its reply tuple (the mapped port), when the reply goes to the router's WAN
     * address.
     */
    Map<String, Integer> mappedPorts(String site, TestbedNode peer) {
        String table = exec(routers.get(site), "cat", "/proc/net/nf_conntrack");
        String wan = spec(site).routerWan();
        Map<String, Integer> out = new LinkedHashMap<>();
        Matcher m = CONNTRACK.matcher(table);
        while (m.find()) {
            if (m.group(1).equals(peer.spec().ip()) && m.group(3).equals(String.valueOf(peer.spec().port()))
                    && m.group(6).equals(wan)) {
                out.put(m.group(2) + ":" + m.group(4), Integer.parseInt(m.group(8)));
            }
        }
        return out;
    }

    /** Sends one 2-byte UDP datagram (not a p2psip frame) from {@code from}'s container, from a fresh port. */
    void sendJunk(TestbedNode from, String ip, int port) {
        exec(from.container(), "bash", "-c", "echo x > /dev/udp/" + ip + "/" + port);
    }

    private static String exec(GenericContainer<?> c, String... cmd) {
        try {
            Container.ExecResult r = c.execInContainer(cmd);
            if (r.getExitCode() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " in " + c.getContainerName() + " failed (exit "
                        + r.getExitCode() + "): " + r.getStderr().strip());
            }
            return r.getStdout();
        } catch (IOException e) {
            throw new IllegalStateException("docker exec in " + c.getContainerName() + " failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during docker exec in " + c.getContainerName(), e);
        }
    }

    /** The last {@code lines} lines of every container's log, for a failure report. */
    String logTails(int lines) {
        StringBuilder sb = new StringBuilder();
        List<GenericContainer<?>> all = new ArrayList<>(routers.values());
        nodes.values().forEach(n -> all.add(n.container()));
        phones.values().forEach(p -> all.add(p.container()));
        for (GenericContainer<?> c : all) {
            String name = c.getContainerName();
            try {
                List<String> l = c.getLogs().lines().toList();
                sb.append("---- ").append(name).append(" (last ").append(Math.min(lines, l.size())).append(" lines)\n");
                l.subList(Math.max(0, l.size() - lines), l.size()).forEach(x -> sb.append(x).append('\n'));
            } catch (RuntimeException e) {
                sb.append("---- ").append(name).append(": no log (").append(e.getMessage()).append(")\n");
            }
        }
        return sb.toString();
    }

    @Override
    public void close() {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            try {
                toClose.get(i).close();
            } catch (Exception e) {
                log("cleanup: " + e.getMessage());
            }
        }
        toClose.clear();
    }

    private Topology.SiteSpec spec(String site) {
        return topology.sites().stream().filter(s -> s.name().equals(site)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no site " + site));
    }

    private void connectWan(Topology.SiteSpec s) {
        docker.connectToNetworkCmd().withNetworkId(publicNetwork.getId())
                .withContainerId(routers.get(s.name()).getContainerId())
                .withContainerNetwork(new ContainerNetwork()
                        .withIpamConfig(new ContainerNetwork.Ipam().withIpv4Address(s.routerWan())))
                .exec();
    }

    private GenericContainer<?> node(Topology.PeerSpec p, String site, Network net, String gateway) {
        GenericContainer<?> c = container(images.node(), p.name(), net, p.ip(), Map.of())
                .withEnv("P2PSIP_PORT", String.valueOf(p.port()))
                // SIP: every phone's account on every node, MD5 digest (sipp 3.6 answers nothing else)
                .withEnv("TESTBED_SIP_USERS", topology.sipUsers())
                .withEnv("P2PSIP_SIP_DOMAIN", Topology.SIP_DOMAIN)
                .withEnv("P2PSIP_SIP_DIGEST", "MD5")
                .waitingFor(Wait.forLogMessage(".*listening on UDP.*", 1).withStartupTimeout(START_TIMEOUT));
        if (gateway != null) {
            c.withEnv("P2PSIP_GATEWAY", gateway).withEnv("P2PSIP_BOOTSTRAP", topology.bootstrap().endpoint())
                    // site mode: the site's election, with the other peers of the LAN as the static list
                    .withEnv("P2PSIP_ROLE", "auto")
                    .withEnv("P2PSIP_SITE_PEER", spec(site).sitePeersOf(p));
        }
        nodes.put(p.name(), new TestbedNode(p, site, c));
        return c;
    }

    private GenericContainer<?> container(String image, String name, Network net, String ip,
                                          Map<String, String> sysctls) {
        String fullName = "p2psip-tb-" + pid + "-" + name;
        Consumer<com.github.dockerjava.api.command.CreateContainerCmd> modifier = cmd -> {
            cmd.withName(fullName).withHostName(name).withIpv4Address(ip);
            cmd.getHostConfig().withCapAdd(Capability.NET_ADMIN);
            if (!sysctls.isEmpty()) {
                cmd.getHostConfig().withSysctls(sysctls);
            }
        };
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image))
                .withNetwork(net)
                .withLabel(LABEL, pid)
                .withCreateContainerCmdModifier(modifier);
        toClose.add(c::stop);
        return c;
    }

    private Network network(String name, String subnet, String gateway) {
        Network n = Network.builder().createNetworkCmdModifier(cmd -> cmd
                .withName("p2psip-tb-" + pid + "-" + name)
                .withLabels(Map.of(LABEL, pid))
                // Docker masquerades a network's traffic leaving its bridge; with bridge netfilter on, that would
                // also rewrite what the routers forward between their own networks (and the nodes would see the
                // host as the sender). The testbed's networks talk only among themselves: no masquerading.
                .withOptions(Map.of("com.docker.network.bridge.enable_ip_masquerade", "false"))
                .withIpam(new com.github.dockerjava.api.model.Network.Ipam().withConfig(
                        new com.github.dockerjava.api.model.Network.Ipam.Config()
                                .withSubnet(subnet).withGateway(gateway))))
                .build();
        toClose.add(n::close);
        try {
            n.getId();
        } catch (DockerException e) {
            throw new IllegalStateException("cannot create network " + name + " (" + subnet + "): " + e.getMessage()
                    + "; is another testbed running (docker network ls --filter label=" + LABEL + ")?", e);
        }
        return n;
    }

    private static void startInParallel(List<GenericContainer<?>> containers) throws InterruptedException {
        try {
            Startables.deepStart(containers).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("a testbed container did not start: " + e.getCause().getMessage(),
                    e.getCause());
        }
    }

    /** Removes containers and networks of earlier runs whose JVM is gone (no Ryuk cleans up after a crash). */
    private void removeLeftoversOfDeadRuns() {
        docker.listContainersCmd().withShowAll(true).withLabelFilter(List.of(LABEL)).exec().forEach(c -> {
            if (dead(c.getLabels().get(LABEL))) {
                log("removing leftover container " + String.join(",", c.getNames()));
                docker.removeContainerCmd(c.getId()).withForce(true).exec();
            }
        });
        docker.listNetworksCmd().withFilter("label", List.of(LABEL)).exec().forEach(n -> {
            if (dead(n.getLabels().get(LABEL))) {
                log("removing leftover network " + n.getName());
                docker.removeNetworkCmd(n.getId()).exec();
            }
        });
    }

    private static boolean dead(String pid) {
        try {
            return ProcessHandle.of(Long.parseLong(pid)).map(p -> !p.isAlive()).orElse(true);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    private static void log(String msg) {
        System.out.println("[testbed] " + msg);
    }
}
