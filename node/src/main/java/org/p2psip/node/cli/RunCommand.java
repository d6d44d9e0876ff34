package org.p2psip.node.cli;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import org.p2psip.node.Entitlement;
import org.p2psip.node.HostPort;
import org.p2psip.node.Peer;
import org.p2psip.node.site.SiteOptions;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.superpeer.discovery.Preference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code p2psip run}: runs a node until SIGTERM or Ctrl-C: by default a superpeer (it joins the overlay and stores
 * records); with {@code --role auto|leaf} a site peer that takes part in its LAN's superpeer election and, as a
 * leaf, sends its DHT calls through its superpeer.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a node in the foreground until SIGTERM or Ctrl-C (a superpeer, or with --role auto a "
                + "site peer that may be elected superpeer or serve as a leaf).")
final class RunCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "${sys:user.home}/.p2psip",
            description = "Where the node key lives (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "" + Peer.DEFAULT_PORT,
            description = "The overlay's UDP port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", paramLabel = "ADDRESS", defaultValue = "0.0.0.0",
            description = "The address the overlay's UDP socket binds (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = ConfigDefaults.CONFIG_OPTION, paramLabel = "FILE",
            description = "The configuration file (TOML; keys are these options' long names, e.g. port = 4222). "
                    + "Default: <data-dir>/" + ConfigDefaults.FILE_NAME + " if it exists. Every option can also be set "
                    + "by an environment variable P2PSIP_<NAME> (e.g. P2PSIP_XMLRPC_PORT); the command line overrides "
                    + "the environment, which overrides the file.")
    Path config;

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT", split = ",",
            description = "A node to join through (repeatable, or comma-separated; the port defaults to " + Peer.DEFAULT_PORT + "). "
                    + "Without one this node starts a new overlay. Entries naming this node itself are skipped.")
    List<String> bootstrap = new ArrayList<>();

    @Option(names = "--control-port", paramLabel = "PORT",
            description = "The local control port, on 127.0.0.1 only; default the overlay port + 1, or "
                    + Peer.DEFAULT_CONTROL_PORT + " with --port 0; 0 picks a free one; -1 disables it.")
    Integer controlPort;

    @Option(names = "--xmlrpc-port", paramLabel = "PORT",
            description = "The XML-RPC gateway's TCP port (OpenDHT's put/get/rm interface at POST /RPC2); default the "
                    + "overlay port + 2, or " + Peer.DEFAULT_XMLRPC_PORT + " with --port 0; 0 picks a free one; -1 disables it.")
    Integer xmlrpcPort;

    @Option(names = "--xmlrpc-bind", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
            description = "The address the XML-RPC gateway binds (default: ${DEFAULT-VALUE}). Any non-loopback "
                    + "address requires --xmlrpc-token.")
    String xmlrpcBind;

    @Option(names = "--xmlrpc-token", paramLabel = "TOKEN",
            description = "A token every XML-RPC request must carry, as 'Authorization: Bearer TOKEN' or '?token=TOKEN'. "
                    + "Required to bind a non-loopback address. Also read from the environment variable P2PSIP_XMLRPC_TOKEN.")
    String xmlrpcToken;

    @Option(names = "--metrics-port", paramLabel = "PORT",
            description = "The Prometheus metrics endpoint (GET /metrics on 127.0.0.1); default the overlay port + 3 "
                    + "(a free one, logged, with --port 0); 0 picks a free one; -1 disables it.")
    Integer metricsPort;

    @Option(names = "--sip-port", paramLabel = "PORT", defaultValue = "" + SipOptions.DEFAULT_PORT,
            description = "The SIP port (UDP and TCP, on the --bind address) where phones register and send calls "
                    + "(default: ${DEFAULT-VALUE}); 0 picks a free one (logged); -1 disables SIP.")
    int sipPort;

    @Option(names = "--sip-domain", paramLabel = "DOMAIN", split = ",",
            description = "A SIP domain this overlay serves (repeatable, or comma-separated); the first is the digest "
                    + "realm. Default: the realms of the accounts in <data-dir>/sip-users (see 'p2psip user add'), "
                    + "else " + SipOptions.FALLBACK_DOMAIN + ".")
    List<String> sipDomains = new ArrayList<>();

    @Option(names = "--sip-digest", paramLabel = "ALGORITHM", split = ",", defaultValue = "SHA-256,MD5",
            description = "The digest algorithms offered to phones, in order of preference: SHA-256 and/or MD5 "
                    + "(default: ${DEFAULT-VALUE}). Phones that answer only the first challenge and only MD5 (sipp 3.6, "
                    + "older desk phones) need MD5 first or alone.")
    List<String> sipDigest = new ArrayList<>();

    @Option(names = "--sip-tls-port", paramLabel = "PORT",
            description = "Also SIP over TLS on this port (5061 by convention; 0 picks a free one), with "
                    + "--sip-tls-cert and --sip-tls-key.")
    Integer sipTlsPort;

    @Option(names = "--sip-tls-cert", paramLabel = "FILE",
            description = "The SIP TLS certificate (PEM: this node's certificate first, then its issuers).")
    Path sipTlsCert;

    @Option(names = "--sip-tls-key", paramLabel = "FILE", description = "The SIP TLS private key (unencrypted PEM).")
    Path sipTlsKey;

    @Option(names = "--sip-dns",
            description = "Route requests of local users (digest, 407) to domains the overlay does not serve by RFC 3263 "
                    + "DNS (NAPTR, SRV, A); without it they get 404.")
    boolean sipDns;

    @Option(names = "--sip-dns-server", paramLabel = "HOST:PORT",
            description = "The DNS server for --sip-dns (default: the system's).")
    String sipDnsServer;

    @Option(names = "--sip-registrar", paramLabel = "HOST:PORT",
            description = "Another peer's SIP address that registers this peer's phones: this peer is then their edge"
                    + " proxy (RFC 3327 Path), e.g. a leaf whose address other sites cannot reach names its superpeer."
                    + " Default: this peer registers its phones itself.")
    String sipRegistrar;

    @Option(names = "--sip-route", paramLabel = "DOMAIN=ORDER",
            description = "With --sip-dns: where to look a domain up, in order, e.g. example.com=overlay,dns "
                    + "(repeatable; default: served domains overlay, others dns,overlay).")
    List<String> sipRoutes = new ArrayList<>();

    @Option(names = "--entitlement", paramLabel = "MODE", defaultValue = "tofu",
            description = "Who may write a name, the same on every node of the overlay: 'tofu' (the first key to write a "
                    + "user's name owns it; default) or 'ca' (a certificate chain to a --trust-anchor must bind the name, "
                    + "as user or as domain).")
    String entitlementMode;

    @Option(names = "--trust-anchor", paramLabel = "FILE",
            description = "A CA certificate (PEM or DER; a file may hold several) that ca entitlement trusts. Repeatable; "
                    + "required with --entitlement ca.")
    List<Path> trustAnchors = new ArrayList<>();

    @Option(names = "--role", paramLabel = "ROLE", defaultValue = "superpeer",
            description = "superpeer (default): a plain overlay node, as before sites existed; auto: find the site's "
                    + "peers on the LAN, take part in the superpeer election, and as a leaf send DHT calls through the "
                    + "elected superpeer; leaf: the same, but never stand for election.")
    String role;

    @Option(names = "--site-peer", paramLabel = "HOST:PORT", split = ",",
            description = "Another peer of this site, at its discovery port (repeatable, or comma-separated; the port "
                    + "defaults to " + SiteOptions.DEFAULT_PORT + "): a static list for LANs where multicast is blocked. "
                    + "With --role auto or leaf.")
    List<String> sitePeers = new ArrayList<>();

    @Option(names = "--site-port", paramLabel = "PORT", defaultValue = "" + SiteOptions.DEFAULT_PORT,
            description = "The UDP port of LAN discovery (announcements and connect-back checks; default: "
                    + "${DEFAULT-VALUE}; every peer of a site using multicast needs the same). With --role auto or leaf.")
    int sitePort;

    @Option(names = "--site-multicast", paramLabel = "true|false", defaultValue = "true", arity = "1",
            description = "Announce on the LAN multicast groups (239.255.42.42 and ff02::4242:5350) of the bound "
                    + "address's interface (default: ${DEFAULT-VALUE}; off by itself where the interface has no multicast). "
                    + "With --role auto or leaf.")
    boolean siteMulticast;

    @Option(names = "--site-preference", paramLabel = "PREF", defaultValue = "auto",
            description = "With --role auto: 'auto' (the election's score decides; default) or 'always' (rank above "
                    + "every 'auto' peer of the site).")
    String sitePreference;

    @Option(names = "--stun-port", paramLabel = "PORT",
            description = "The UDP port of the STUN server a superpeer runs (peers learn their NAT from it); default the "
                    + "overlay port + 4 (a free one with --port 0; skipped with a warning when taken); 0 picks a free "
                    + "one; -1 runs none. With --role auto, only while elected.")
    Integer stunPort;

    @Option(names = "--stun-server", paramLabel = "HOST:PORT",
            description = "The STUN server to discover this node's NAT behaviour against (site mode); default the first "
                    + "--bootstrap node's host at its port + 4 (its default STUN port).")
    String stunServer;

    @Option(names = "--turn-port", paramLabel = "PORT",
            description = "The UDP port of the TURN relay a superpeer runs (RFC 8656; its users are the SIP accounts); "
                    + "default the overlay port + 5 (a free one with --port 0; skipped with a warning when taken); 0 "
                    + "picks a free one; -1 runs none.")
    Integer turnPort;

    @Option(names = "--turn", paramLabel = "auto|on|off", defaultValue = "auto",
            description = "When a superpeer runs its TURN relay: 'auto' (default) only when NAT discovery found no "
                    + "NAT or a port mapping; 'on' always; 'off' never. With --role auto, only while elected.")
    String turn;

    @Option(names = "--link-security", paramLabel = "dtls|none", defaultValue = "dtls",
            description = "What protects the overlay links: 'dtls' (default: DTLS 1.2 on every link, authenticated with "
                    + "the node key, and ICE links through NATs) or 'none' (plain UDP, for labs and benchmarks). Every node "
                    + "of an overlay needs the same.")
    String linkSecurity;

    @Option(names = "--link-turn-user", paramLabel = "USER",
            description = "An account on a superpeer's TURN relay (one of its SIP accounts) for ICE links that need a "
                    + "relay (both NATs map per destination); with --link-turn-password. Default: none (such links fail "
                    + "and the overlay reaches those peers through others).")
    String linkTurnUser;

    @Option(names = "--link-turn-password", paramLabel = "PASSWORD",
            description = "The password of --link-turn-user (better set as P2PSIP_LINK_TURN_PASSWORD).")
    String linkTurnPassword;

    @Option(names = "--link-turn-server", paramLabel = "HOST:PORT",
            description = "The TURN relay of --link-turn-user; default the first --bootstrap node's host at its port + 5 "
                    + "(a superpeer's default TURN port).")
    String linkTurnServer;

    @Option(names = {"-v", "--verbose"}, description = "Log at debug level.")
    boolean verbose;

    private final CompletableFuture<Void> stop = new CompletableFuture<>();

    @Override
    public Integer call() throws InterruptedException {
        if (port < 0 || port > 65_535) {
            throw usage("--port must be within 0..65535");
        }
        if (controlPort != null && (controlPort < -1 || controlPort > 65_535)) {
            throw usage("--control-port must be within 0..65535, or -1 to disable it");
        }
        InetAddress bindAddress;
        try {
            bindAddress = InetAddress.getByName(bind);
        } catch (UnknownHostException e) {
            throw usage("--bind " + bind + ": unknown address");
        }
        if (xmlrpcPort != null && (xmlrpcPort < -1 || xmlrpcPort > 65_535)) {
            throw usage("--xmlrpc-port must be within 0..65535, or -1 to disable it");
        }
        InetAddress xmlrpcAddress;
        try {
            xmlrpcAddress = InetAddress.getByName(xmlrpcBind);
        } catch (UnknownHostException e) {
            throw usage("--xmlrpc-bind " + xmlrpcBind + ": unknown address");
        }
        String token = xmlrpcToken != null ? xmlrpcToken : System.getenv("P2PSIP_XMLRPC_TOKEN");
        if (token != null && token.isBlank()) {
            token = null;
        }
        boolean xmlrpcOn = xmlrpcPort == null || xmlrpcPort >= 0;
        if (xmlrpcOn && token == null && !xmlrpcAddress.isLoopbackAddress()) {
            throw usage("--xmlrpc-bind " + xmlrpcBind + " is not a loopback address: anyone who reaches it could "
                    + "write to the DHT, so it needs --xmlrpc-token TOKEN (or P2PSIP_XMLRPC_TOKEN); "
                    + "or keep the default 127.0.0.1, or disable the gateway with --xmlrpc-port -1");
        }
        Entitlement entitlement = entitlement();
        List<InetSocketAddress> nodes = new ArrayList<>();
        for (String b : bootstrap) {
            try {
                nodes.add(HostPort.parse(b, Peer.DEFAULT_PORT));
            } catch (IllegalArgumentException e) {
                throw usage("--bootstrap " + e.getMessage());
            }
        }
        SiteOptions site = site();
        if (verbose) {
            // Takes effect because no logger exists yet in this JVM: the CLI logs nothing before this point.
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "debug");
        }
        Peer.Builder builder = Peer.builder()
                .dataDir(dataDir)
                .bindAddress(bindAddress)
                .port(port)
                .bootstrap(nodes)
                .entitlement(entitlement)
                .site(site);
        if (controlPort != null) {
            builder.controlPort(controlPort);
        }
        if (stunPort != null) {
            if (stunPort < -1 || stunPort > 65_535) {
                throw usage("--stun-port must be within 0..65535, or -1 to run none");
            }
            builder.stunPort(stunPort);
        }
        if (stunServer != null && !stunServer.isBlank()) {
            try {
                builder.stunServer(HostPort.parse(stunServer, 3478));
            } catch (IllegalArgumentException e) {
                throw usage("--stun-server " + e.getMessage());
            }
        }
        if (turnPort != null) {
            if (turnPort < -1 || turnPort > 65_535) {
                throw usage("--turn-port must be within 0..65535, or -1 to run none");
            }
            builder.turnPort(turnPort);
        }
        try {
            builder.turn(org.p2psip.node.site.TurnMode.parse(turn));
        } catch (IllegalArgumentException e) {
            throw usage("--" + e.getMessage());
        }
        try {
            builder.linkSecurity(org.p2psip.node.links.LinkSecurity.parse(linkSecurity));
        } catch (IllegalArgumentException e) {
            throw usage("--" + e.getMessage());
        }
        if (linkTurnUser != null || linkTurnPassword != null || linkTurnServer != null) {
            if (linkTurnUser == null || linkTurnUser.isBlank() || linkTurnPassword == null || linkTurnPassword.isEmpty()) {
                throw usage("--link-turn-user needs --link-turn-password (and the reverse); --link-turn-server needs both");
            }
            InetSocketAddress server = null;
            if (linkTurnServer != null && !linkTurnServer.isBlank()) {
                try {
                    server = HostPort.parse(linkTurnServer, 3478);
                } catch (IllegalArgumentException e) {
                    throw usage("--link-turn-server " + e.getMessage());
                }
            }
            builder.linkTurn(new org.p2psip.node.links.LinkTurn(server, linkTurnUser.strip(), linkTurnPassword));
        }
        if (xmlrpcPort != null) {
            builder.xmlrpcPort(xmlrpcPort);
        }
        builder.xmlrpcBind(xmlrpcAddress).xmlrpcToken(token);
        if (metricsPort != null) {
            if (metricsPort < -1 || metricsPort > 65_535) {
                throw usage("--metrics-port must be within 0..65535, or -1 to disable it");
            }
            builder.metricsPort(metricsPort);
        }
        if (sipPort < -1 || sipPort > 65_535) {
            throw usage("--sip-port must be within 0..65535, or -1 to disable SIP");
        }
        for (String d : sipDomains) {
            if (d.isBlank() || d.strip().contains(":") || d.strip().contains("@") || d.strip().contains(" ")) {
                throw usage("--sip-domain '" + d + "' is not a domain name (expected e.g. example.net)");
            }
        }
        SipOptions sip = new SipOptions(sipPort, sipDomains, null, null).withAlgorithms(sipDigest());
        if (sipTlsPort != null || sipTlsCert != null || sipTlsKey != null) {
            if (sipTlsPort == null || sipTlsCert == null || sipTlsKey == null) {
                throw usage("SIP over TLS needs all of --sip-tls-port, --sip-tls-cert and --sip-tls-key");
            }
            if (sipTlsPort < 0 || sipTlsPort > 65_535) {
                throw usage("--sip-tls-port must be within 0..65535");
            }
            sip = sip.withTls(new SipOptions.Tls(sipTlsPort, sipTlsCert, sipTlsKey));
        }
        if (sipDns) {
            for (String r : sipRoutes) {
                try {
                    org.p2psip.sip.dns.DomainRouting.DEFAULT.with(r);
                } catch (IllegalArgumentException e) {
                    throw usage("--sip-route: " + e.getMessage());
                }
            }
            sip = sip.withDns(new SipOptions.Dns(sipDnsServer, sipRoutes));
        } else if (sipDnsServer != null || !sipRoutes.isEmpty()) {
            throw usage("--sip-dns-server and --sip-route need --sip-dns");
        }
        if (sipRegistrar != null) {
            try {
                org.p2psip.node.sip.NodeSip.registrarUri(sipRegistrar);
            } catch (IllegalArgumentException e) {
                throw usage("--sip-registrar: " + e.getMessage());
            }
            sip = sip.withRegistrar(sipRegistrar);
        }
        builder.sip(sip);
        Peer peer = builder.build();
        Thread hook = new Thread(() -> {
            peer.close();
            stop.complete(null);
        }, "p2psip-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        CompletableFuture<Throwable> failure = new CompletableFuture<>();
        peer.start().whenComplete((p, e) -> {
            Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (c != null && !(c instanceof CancellationException)) {
                failure.complete(c);
            }
        });
        CompletableFuture.anyOf(stop, failure).join();
        if (failure.isDone()) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down
            }
            peer.close();
            Throwable c = failure.join();
            throw new CliException("cannot start the node: " + (c.getMessage() != null ? c.getMessage() : c.toString()), c);
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook ran, which is how we got here
        }
        peer.close();
        return Main.OK;
    }

    /** Stops a node started by {@link #call()} as SIGTERM would, for in-process use and tests. */
    void stop() {
        stop.complete(null);
    }

    /** The site settings from --role and the --site-* options, or a usage error saying what to fix. */
    SiteOptions site() {
        SiteOptions.Mode mode;
        try {
            mode = SiteOptions.Mode.parse(role);
        } catch (IllegalArgumentException e) {
            throw usage("--role " + e.getMessage().replaceFirst("^role ", ""));
        }
        Preference pref = switch (sitePreference.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> Preference.AUTO;
            case "always" -> Preference.ALWAYS;
            default -> throw usage("--site-preference must be 'auto' or 'always', not '" + sitePreference + "'");
        };
        if (sitePort < 0 || sitePort > 65_535) {
            throw usage("--site-port must be within 0..65535");
        }
        List<InetSocketAddress> peers = new ArrayList<>();
        for (String p : sitePeers) {
            try {
                peers.add(HostPort.parse(p, SiteOptions.DEFAULT_PORT));
            } catch (IllegalArgumentException e) {
                throw usage("--site-peer " + e.getMessage());
            }
        }
        if (mode == SiteOptions.Mode.SUPERPEER && !peers.isEmpty()) {
            throw usage("--site-peer needs --role auto or leaf: with --role superpeer (the default) the node takes "
                    + "part in no site");
        }
        if (mode == SiteOptions.Mode.LEAF && pref == Preference.ALWAYS) {
            throw usage("--site-preference always contradicts --role leaf (a leaf never stands for election); "
                    + "use --role auto to prefer this node as superpeer");
        }
        return new SiteOptions(mode, peers, sitePort, siteMulticast, mode == SiteOptions.Mode.LEAF ? Preference.NEVER : pref);
    }

    /** The entitlement from --entitlement and --trust-anchor, or a usage error saying what to fix. */
    Entitlement entitlement() {
        switch (entitlementMode.toLowerCase(java.util.Locale.ROOT)) {
            case "tofu" -> {
                if (!trustAnchors.isEmpty()) {
                    throw usage("--trust-anchor is only used with --entitlement ca; add --entitlement ca to trust that CA, "
                            + "or drop --trust-anchor for trust on first use");
                }
                return Entitlement.tofu();
            }
            case "ca" -> {
                if (trustAnchors.isEmpty()) {
                    throw usage("--entitlement ca needs the overlay's CA certificate: add --trust-anchor FILE (PEM)");
                }
                try {
                    return Entitlement.ca(Entitlement.readAnchors(trustAnchors));
                } catch (IllegalArgumentException e) {
                    throw usage("--trust-anchor: " + e.getMessage());
                }
            }
            default -> throw usage("--entitlement must be 'tofu' or 'ca', not '" + entitlementMode + "'");
        }
    }

    /** The --sip-digest algorithms in their canonical spelling, or a usage error naming the choices. */
    List<String> sipDigest() {
        List<String> out = new ArrayList<>();
        for (String a : sipDigest) {
            String canonical = switch (a.strip().toUpperCase(java.util.Locale.ROOT)) {
                case "SHA-256", "SHA256" -> "SHA-256";
                case "MD5" -> "MD5";
                default -> throw usage("--sip-digest '" + a + "' is not offered; choose SHA-256 and/or MD5 (e.g. "
                        + "--sip-digest MD5 for phones that answer only MD5)");
            };
            if (!out.contains(canonical)) {
                out.add(canonical);
            }
        }
        if (out.isEmpty()) {
            throw usage("--sip-digest needs at least one algorithm: SHA-256 and/or MD5");
        }
        return out;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
