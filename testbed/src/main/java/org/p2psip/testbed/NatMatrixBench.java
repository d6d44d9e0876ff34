package org.p2psip.testbed;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.p2psip.nat.ice.NatMatrix;
import org.p2psip.nat.ice.NatMatrix.Behaviour;
import org.p2psip.nat.ice.NatMatrix.PairResult;
import org.p2psip.nat.lab.NatLab;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench nat-matrix}: ICE links between nodes behind real kernel NATs (the nat module's lab: network
 * namespaces, iptables), for every pair of {public, full cone, address-restricted, port-restricted, symmetric, UPnP
 * router}.
 * Prints per pair whether the selected candidate pair is direct or relayed, the setup time of the first link (cold
 * JVM: ice4j's start-up included) and, over {@code --links - 1} more links set up in the warm JVM, p50/p99 of the
 * ICE setup time and of the time until the DTLS session authenticated the peer, then the phases of the warm setups
 * (Attach sent, answer, gathering done, first valid pair, ICE done, DTLS authenticated, first overlay ping). Needs
 * root, iproute2, iptables and miniupnpd.
 */
@Command(name = "nat-matrix", mixinStandardHelpOptions = true,
        description = "ICE link setup between every pair of NAT behaviours in a kernel NAT lab (needs root).")
final class NatMatrixBench implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--links", defaultValue = "11",
            description = "link setups per pair: one cold, the rest warm (default ${DEFAULT-VALUE})")
    int links;

    @Option(names = "--delay-ms", defaultValue = "0",
            description = "one-way delay on every segment: each site LAN and the public segment (netem, or the lab's"
                    + " NFQUEUE program without sch_netem; default ${DEFAULT-VALUE})")
    int delayMs;

    /** Nearest-rank percentile in whole milliseconds, -1 without samples. */
    private static long pct(List<Long> samples, double p) {
        return samples.isEmpty() ? -1 : (long) Stats.percentile(samples.stream().mapToDouble(Long::doubleValue).toArray(), p);
    }

    /** The requester's {@code warm_phases}: per link attach/answer/gathered/first valid/completed/dtls/ping. */
    static List<long[]> phases(String text) {
        List<long[]> out = new ArrayList<>();
        if (text == null || text.isBlank()) {
            return out;
        }
        for (String link : text.split(";")) {
            String[] f = link.split("/");
            long[] v = new long[f.length];
            try {
                for (int i = 0; i < f.length; i++) {
                    v[i] = Long.parseLong(f[i].trim());
                }
            } catch (NumberFormatException e) {
                continue;
            }
            if (v.length == 7) {
                out.add(v);
            }
        }
        return out;
    }

    private static String phaseRow(String name, List<long[]> links) {
        StringBuilder sb = new StringBuilder(String.format("%-40s", name));
        int[] widths = {6, 6, 8, 8, 8, 6, 6};
        for (int i = 0; i < 7; i++) {
            List<Long> col = new ArrayList<>();
            for (long[] l : links) {
                if (l[i] >= 0) {
                    col.add(l[i]);
                }
            }
            sb.append(String.format(" %" + widths[i] + "d", pct(col, 50)));
        }
        return sb.append(String.format(" %6d", links.size())).toString();
    }

    @Option(names = "--node-option", paramLabel = "OPTION",
            description = "an IceNodeMain option for both nodes, e.g. --no-trickle or --regular-nomination (repeatable)")
    List<String> nodeOptions = new ArrayList<>();

    @Option(names = "--verbose", description = "print both nodes' output of every pair on stderr (it is printed for failed pairs anyway)")
    boolean verbose;

    @Option(names = "--pair", paramLabel = "TARGET:REQUESTER",
            description = "run only these pairs, e.g. symmetric:port_restricted (repeatable; default: all 21)")
    List<String> only = new ArrayList<>();

    /** The pairs to run: those given with --pair, or every unordered pair of behaviours. */
    private List<Behaviour[]> pairs() {
        List<Behaviour[]> out = new ArrayList<>();
        if (!only.isEmpty()) {
            for (String p : only) {
                String[] parts = p.toUpperCase(java.util.Locale.ROOT).replace('-', '_').split(":");
                if (parts.length != 2) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--pair wants TARGET:REQUESTER, got " + p);
                }
                try {
                    out.add(new Behaviour[] {Behaviour.valueOf(parts[0]), Behaviour.valueOf(parts[1])});
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "unknown behaviour in " + p
                            + "; use public, full_cone, address_restricted, port_restricted, symmetric or upnp");
                }
            }
            return out;
        }
        Behaviour[] all = Behaviour.values();
        for (int i = 0; i < all.length; i++) {
            for (int j = i; j < all.length; j++) {
                out.add(new Behaviour[] {all[i], all[j]});
            }
        }
        return out;
    }

    @Override
    public Integer call() throws Exception {
        List<Behaviour[]> pairs = pairs();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> problems = NatLab.prerequisiteProblems();
        if (!problems.isEmpty()) {
            err.println("nat-matrix needs the NAT lab: " + String.join("; ", problems) + " (run as root with iproute2 and iptables)");
            return 2;
        }
        try (NatLab lab = NatLab.create()) {
            java.util.EnumSet<Behaviour> used = java.util.EnumSet.noneOf(Behaviour.class);
            pairs.forEach(ab -> used.addAll(List.of(ab)));
            if (used.contains(Behaviour.UPNP) && !NatLab.upnpPrerequisiteProblems().isEmpty()) {
                err.println("nat-matrix: the UPnP router needs " + String.join("; ", NatLab.upnpPrerequisiteProblems())
                        + " (apt-get install miniupnpd-iptables), or leave upnp out with --pair");
                return 2;
            }
            NatMatrix matrix = NatMatrix.start(lab, new ArrayList<>(used), 30);
            String delayNote = "no added delay";
            if (delayMs > 0) {
                // Every segment (each site's LAN and the public segment): site to site is 3 x D one way.
                lab.delayEverySegment(Duration.ofMillis(delayMs));
                delayNote = delayMs + " ms one-way delay on every segment ("
                        + (lab.netemAvailable() ? "netem" : "nfq-delay: this kernel has no sch_netem") + ")";
            }
            err.println("nat-matrix: " + delayNote + "; " + links + " link setups per pair");
            // setup_* = ICE only (Attach to ICE completed), auth_* = until the DTLS session authenticated the peer
            out.printf("%-18s %-18s %-8s %-14s %8s %9s %9s %9s %9s %s%n", "target", "requester", "path", "pair", "cold_ms",
                    "setup_p50", "setup_p99", "auth_p50", "auth_p99", "failures");
            int failed = 0;
            int done = 0;
            List<Long> directReady = new ArrayList<>();
            List<Long> directSetup = new ArrayList<>();
            List<String> phaseRows = new ArrayList<>();
            List<long[]> directPhases = new ArrayList<>();
            for (Behaviour[] ab : pairs) {
                done++;
                Behaviour a = ab[0];
                Behaviour b = ab[1];
                err.printf("pair %d/%d: %s <- %s%n", done, pairs.size(), a, b);
                err.flush();
                PairResult r = matrix.run(a, b, links, nodeOptions);
                boolean ok = r.connected() && r.authenticated() && r.rpcOk() && r.error() == null;
                if (!ok) {
                    failed++;
                }
                if (!ok || verbose) {
                    err.println(r.output());
                }
                String pair = r.selected().isEmpty() ? "-" : r.selected().substring(0, r.selected().indexOf(' '));
                out.printf("%-18s %-18s %-8s %-14s %8d %9d %9d %9d %9d %s%n", a, b,
                        r.connected() ? (r.relayed() ? "relayed" : "direct") : "FAILED", pair, r.setupMillis(),
                        pct(r.warmSetupMillis(), 50), pct(r.warmSetupMillis(), 99),
                        pct(r.warmReadyMillis(), 50), pct(r.warmReadyMillis(), 99),
                        ok ? "0" : "1 (" + r.error() + ")");
                out.flush();
                List<long[]> phases = phases(NatMatrix.requesterValues(r).get("warm_phases"));
                if (r.connected() && !r.relayed()) {
                    directReady.addAll(r.warmReadyMillis());
                    directSetup.addAll(r.warmSetupMillis());
                    directPhases.addAll(phases);
                }
                phaseRows.add(phaseRow(a + " <- " + b, phases));
            }
            out.println();
            out.println("phases of the warm links, p50 in ms from the start of the setup (each column includes the ones"
                    + " before it):");
            out.printf("%-40s %6s %6s %8s %8s %8s %6s %6s %6s%n", "pair", "attach", "answer", "gathered", "1stvalid",
                    "ice_done", "dtls", "ping", "links");
            phaseRows.forEach(out::println);
            out.println(phaseRow("all direct links", directPhases));
            out.printf("direct links (warm): ICE only p50 %d ms, p99 %d ms over %d links%n", pct(directSetup, 50),
                    pct(directSetup, 99), directSetup.size());
            long readyP50 = pct(directReady, 50);
            long readyP99 = pct(directReady, 99);
            out.printf("direct links (warm): setup until DTLS-authenticated (the link carries overlay traffic)"
                    + " p50 %d ms, p99 %d ms over %d links; target p50 < 500 ms and p99 < 2000 ms: %s%n", readyP50,
                    readyP99, directReady.size(), directReady.isEmpty() ? "no direct links"
                            : readyP50 < 500 && readyP99 < 2000 ? "met" : "NOT met");
            out.printf("connected %d/%d pairs; direct links (warm): setup-to-authenticated p50 %d ms, p99 %d ms over %d links; %s%n",
                    pairs.size() - failed, pairs.size(), readyP50, readyP99, directReady.size(), delayNote);
            return failed == 0 ? 0 : 1;
        }
    }
}
