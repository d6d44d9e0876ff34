package org.p2psip.nat.ice;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.nat.lab.NatType;
import org.p2psip.nat.lab.PublicHost;
import org.p2psip.nat.lab.Site;

/**
 * ICE links between nodes behind the NAT lab's kernel NATs. A public host runs {@link IceRendezvousMain} (TURN with
 * STUN, and the signaling relay); each behaviour has two sites (so a pair of equal behaviours uses two different
 * routers), and "public" nodes sit directly on the public segment. {@link #run} starts a target node in one place
 * and a requester in the other (child JVMs, {@link IceNodeMain}), and returns what the requester measured.
 */
public final class NatMatrix {
    /** Where a node sits. */
    public enum Behaviour {
        PUBLIC, FULL_CONE, ADDRESS_RESTRICTED, PORT_RESTRICTED, SYMMETRIC,
        /** Behind a router that grants port mappings (miniupnpd): the node maps its ICE port and advertises it. */
        UPNP;

        NatType natType() {
            return this == PUBLIC ? null : NatType.valueOf(name());
        }
    }

    /**
     * What one pair gave, as the requester measured it. {@code selected} is "localType->remoteType local=.. remote=..";
     * {@code pathDatagrams} arrived over the selected pair, {@code layerDatagrams} at the DTLS layer in all.
     */
    public record PairResult(Behaviour target, Behaviour requester, boolean connected, boolean relayed, String selected,
            long setupMillis, long linkReadyMillis, boolean authenticated, boolean rpcOk, long pathDatagrams,
            long layerDatagrams, List<Long> warmSetupMillis, List<Long> warmReadyMillis, String error, String output) {
    }

    private final NatLab lab;
    private final String rendezvous;
    private final Map<Behaviour, List<String>> namespaces = new EnumMap<>(Behaviour.class);
    private final Map<Behaviour, List<String>> addresses = new EnumMap<>(Behaviour.class);
    private final List<Site> sites = new ArrayList<>();

    private NatMatrix(NatLab lab, String rendezvous) {
        this.lab = lab;
        this.rendezvous = rendezvous;
    }

    /**
     * The link is relayed only where the NATs cannot be punched: symmetric with symmetric, and symmetric with
     * port-restricted (the symmetric side's new mapping for the peer is unknown, and the port-restricted side only
     * admits the exact address and port it sent to). A UPnP router's node advertises a mapped port that admits
     * anyone, so it links directly with every other.
     */
    public static boolean expectRelayed(Behaviour a, Behaviour b) {
        return (a == Behaviour.SYMMETRIC && (b == Behaviour.SYMMETRIC || b == Behaviour.PORT_RESTRICTED))
                || (b == Behaviour.SYMMETRIC && a == Behaviour.PORT_RESTRICTED);
    }

    /**
     * Builds the rendezvous host and the sites for {@code behaviours} in {@code lab} (two sites per NAT type; UPnP
     * needs miniupnpd, see {@link NatLab#upnpPrerequisiteProblems()}).
     */
    public static NatMatrix start(NatLab lab, List<Behaviour> behaviours, int conntrackUdpTimeoutSeconds) throws Exception {
        PublicHost infra = lab.addPublicHost("rdv", 1);
        String ip = infra.addresses().get(0).getHostAddress();
        Process p = lab.spawn(infra.namespace(), NatLab.javaCommand(IceRendezvousMain.class.getName(), List.of(ip)));
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String ready = readLine(out, 60);
        if (ready == null || !ready.startsWith("ready ")) {
            throw new IOException("the rendezvous server did not start: " + ready);
        }
        // keep reading its output (logs), or a full pipe would block the server
        Thread drain = new Thread(() -> drain(out), "rendezvous-output");
        drain.setDaemon(true);
        drain.start();
        NatMatrix m = new NatMatrix(lab, ip + ":3478");
        for (Behaviour b : behaviours) {
            List<String> ns = new ArrayList<>();
            List<String> addr = new ArrayList<>();
            for (String side : List.of("a", "b")) {
                if (b == Behaviour.PUBLIC) {
                    PublicHost h = lab.addPublicHost("pub" + side, 1);
                    ns.add(h.namespace());
                    addr.add(h.addresses().get(0).getHostAddress());
                } else {
                    Site s = lab.addSite(b.name().toLowerCase().replace("_", "") + side, b.natType(),
                            conntrackUdpTimeoutSeconds);
                    m.sites.add(s);
                    ns.add(s.hostNamespace());
                    addr.add(s.hostAddress().getHostAddress());
                }
            }
            m.namespaces.put(b, ns);
            m.addresses.put(b, addr);
        }
        return m;
    }

    /**
     * Impairs every site router (netem, or without sch_netem the lab's NFQUEUE delay program; see
     * {@link NatLab#netemAvailable()}). {@link NatLab#delayEverySegment} delays the public segment too.
     */
    public void impairSites(org.p2psip.nat.lab.Impairment impairment) {
        for (Site s : sites) {
            s.impair(impairment);
        }
    }

    /** Runs one pair: a target in {@code target}'s first place, a requester in {@code requester}'s second. */
    public PairResult run(Behaviour target, Behaviour requester) throws Exception {
        return run(target, requester, 1);
    }

    /**
     * Runs one pair with {@code links} link setups by the same requester JVM: the first (cold, with the overlay RPCs)
     * and {@code links - 1} more in the warm JVM ({@link PairResult#warmSetupMillis()}).
     */
    public PairResult run(Behaviour target, Behaviour requester, int links) throws Exception {
        return run(target, requester, links, List.of());
    }

    /** As {@link #run(Behaviour, Behaviour, int)}, with more {@link IceNodeMain} options for both nodes. */
    public PairResult run(Behaviour target, Behaviour requester, int links, List<String> nodeOptions) throws Exception {
        String tNs = namespaces.get(target).get(0);
        String rNs = namespaces.get(requester).get(1);
        List<String> tArgs = new ArrayList<>(List.of("target", "--rendezvous", rendezvous, "--bind",
                addresses.get(target).get(0)));
        tArgs.addAll(nodeOptions);
        if (target == Behaviour.UPNP) {
            tArgs.add("--port-map");
        }
        Process t = lab.spawn(tNs, NatLab.javaCommand(IceNodeMain.class.getName(), tArgs));
        try {
            BufferedReader tOut = new BufferedReader(new InputStreamReader(t.getInputStream(), StandardCharsets.UTF_8));
            String ready = readLine(tOut, 60);
            while (ready != null && !ready.startsWith("ready ")) {
                ready = readLine(tOut, 60);
            }
            if (ready == null) {
                return failed(target, requester, "the target node did not start");
            }
            String id = ready.substring(ready.indexOf("id=") + 3).trim();
            CompletableFuture<String> rest = CompletableFuture.supplyAsync(() -> drain(tOut));
            List<String> rArgs = new ArrayList<>(List.of("requester", "--rendezvous", rendezvous, "--peer", id, "--bind",
                    addresses.get(requester).get(1), "--links", String.valueOf(links)));
            rArgs.addAll(nodeOptions);
            if (requester == Behaviour.UPNP) {
                rArgs.add("--port-map");
            }
            Process r = lab.spawn(rNs, NatLab.javaCommand(IceNodeMain.class.getName(), rArgs));
            r.getOutputStream().close();
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(r.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    return "error=" + e;
                }
            });
            if (!r.waitFor(120L + 30L * links, TimeUnit.SECONDS)) {
                r.destroyForcibly();
                String partial;
                try {
                    partial = out.get(10, TimeUnit.SECONDS); // the output ends with the process
                } catch (Exception e) {
                    partial = "(the requester's output did not end)";
                }
                PairResult f = failed(target, requester, "the requester hung");
                return new PairResult(target, requester, false, false, "", -1, -1, false, false, 0, 0, List.of(),
                        List.of(), f.error(), "requester (killed after hanging):\n" + partial.trim());
            }
            String text = out.get(10, TimeUnit.SECONDS);
            t.getOutputStream().close();
            if (!t.waitFor(20, TimeUnit.SECONDS)) {
                t.destroy();
            }
            String targetText;
            try {
                targetText = rest.get(10, TimeUnit.SECONDS); // the output ends when the process does
            } catch (java.util.concurrent.TimeoutException e) {
                targetText = "(the target's output did not end)";
            }
            Map<String, String> kv = parse(text);
            String selected = kv.getOrDefault("link", "");
            return new PairResult(target, requester, kv.containsKey("link"), "true".equals(kv.get("relayed")), selected,
                    num(kv.get("setup_ms")), num(kv.get("link_ready_ms")), "true".equals(kv.get("authenticated")),
                    "true".equals(kv.get("get_ok")) && "2".equals(kv.get("put_stored")) && text.contains("\ndone\n"),
                    num(kv.get("path_datagrams")),
                    num(kv.get("layer_datagrams")), nums(kv.get("warm_setup_ms")), nums(kv.get("warm_ready_ms")),
                    kv.containsKey("warm_error") ? "warm link: " + kv.get("warm_error") : kv.get("error"),
                    "requester:\n" + text.trim() + "\ntarget:\n" + targetText.trim());
        } finally {
            t.destroy();
        }
    }

    /** The requester's key=value lines of a result's output. */
    public static Map<String, String> requesterValues(PairResult r) {
        String out = r.output();
        int t = out.indexOf("\ntarget:\n");
        return parse(t < 0 ? out : out.substring(0, t));
    }

    private static PairResult failed(Behaviour t, Behaviour r, String why) {
        return new PairResult(t, r, false, false, "", -1, -1, false, false, 0, 0, List.of(), List.of(), why, "");
    }

    private static long num(String s) {
        try {
            return s == null ? -1 : Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static List<Long> nums(String csv) {
        List<Long> out = new ArrayList<>();
        if (csv != null && !csv.isBlank()) {
            for (String v : csv.split(",")) {
                out.add(num(v));
            }
        }
        return out;
    }

    static Map<String, String> parse(String text) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            int sp = line.indexOf(' ');
            if (eq > 0 && (sp < 0 || eq < sp)) {
                kv.put(line.substring(0, eq), line.substring(eq + 1).trim());
            }
        }
        return kv;
    }

    private static String drain(BufferedReader in) {
        StringBuilder sb = new StringBuilder();
        try {
            for (String l; (l = in.readLine()) != null; ) {
                sb.append(l).append('\n');
            }
        } catch (IOException e) {
            // process gone
        }
        return sb.toString();
    }

    private static String readLine(BufferedReader in, int seconds) throws Exception {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return in.readLine();
            } catch (IOException e) {
                return null;
            }
        }).get(seconds, TimeUnit.SECONDS);
    }
}
