package org.p2psip.node.site;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.p2psip.nat.turn.TurnServer;
import org.p2psip.node.HostPort;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.accounts.ReloadingAccounts;
import org.p2psip.node.sip.NodeSip;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.superpeer.discovery.NatInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A superpeer's TURN relay (RFC 8656, UDP allocations; nat's {@link TurnServer}) for links without a direct path
 * and for the media of leaves' phones. Its long-term credentials are the node's SIP digest accounts
 * ({@link TurnAccounts}) in the SIP realm; its relayed addresses are on the node's advertised address.
 *
 * @param port     the UDP port: 0 a free one, -1 none
 * @param explicit whether the port was configured (a taken port then fails the start; a default one is skipped)
 * @param mode     when a superpeer runs it
 * @param realm    the long-term credential realm (the SIP realm)
 * @param accounts the SIP accounts, re-read when the file changes
 */
public record NodeTurn(int port, boolean explicit, TurnMode mode, String realm, ReloadingAccounts accounts) {
    private static final Logger LOG = LoggerFactory.getLogger(NodeTurn.class);

    /**
     * The settings of a peer: {@code configuredPort} null means the overlay port + 5 (a free one when the overlay
     * port is 0). Reads the accounts file to learn the realm the SIP adapter would use.
     *
     * @throws IOException with {@link TurnMode#ON}, when the accounts file exists but cannot be read (the message
     *                     names it); with AUTO the peer runs no relay then (logged)
     */
    public static NodeTurn of(Integer configuredPort, int overlayPort, TurnMode mode, SipOptions sip, Path dataDir)
            throws IOException {
        int p = configuredPort != null ? configuredPort
                : overlayPort == 0 ? 0 : overlayPort + 5 <= 65_535 ? overlayPort + 5 : -1;
        if (mode == TurnMode.OFF || p < 0) {
            return new NodeTurn(-1, false, TurnMode.OFF, null, null);
        }
        Path file = NodeSip.accountsFile(sip, dataDir);
        try {
            String realm = NodeSip.realm(sip, DigestAccounts.read(file));
            return new NodeTurn(p, configuredPort != null, mode, realm, ReloadingAccounts.open(file, realm));
        } catch (IOException e) {
            if (mode == TurnMode.AUTO) {
                LOG.warn("no TURN server: the SIP accounts {} (its credentials) cannot be read: {}; fix the file, or "
                        + "--turn off to silence this", file, e.getMessage());
                return off();
            }
            throw new IOException("cannot read the SIP accounts " + file + " (TURN's credentials): " + e.getMessage()
                    + "; fix the file, or run no TURN server with --turn off", e);
        }
    }

    /** No TURN server. */
    public static NodeTurn off() {
        return new NodeTurn(-1, false, TurnMode.OFF, null, null);
    }

    /** Whether a superpeer with this NAT runs the server. */
    public boolean runs(NatInfo nat) {
        return port >= 0 && mode.runs(nat);
    }

    /**
     * Starts the server on {@code bind}:{@link #port()}, relaying on {@code relayIp} (blocks while binding). Null
     * when a default port is taken or the relay address is not IPv4 (logged).
     *
     * @throws IllegalStateException when a configured port cannot be bound (the message names {@code --turn-port})
     */
    public TurnServer start(InetAddress bind, InetAddress relayIp, String node) {
        return start(bind, relayIp, node, c -> c);
    }

    /**
     * As {@link #start(InetAddress, InetAddress, String)}, with the credentials the SIP accounts give wrapped by
     * {@code credentials} (a plain superpeer adds its relay's grants to other superpeers' ICE links).
     */
    public TurnServer start(InetAddress bind, InetAddress relayIp, String node,
            java.util.function.UnaryOperator<org.p2psip.nat.turn.CredentialStore> credentials) {
        if (!(relayIp instanceof Inet4Address)) {
            LOG.warn("node {}: no TURN server: the relay address {} is not IPv4 (the relay supports IPv4 only); "
                    + "give --bind an IPv4 address", node, relayIp.getHostAddress());
            return null;
        }
        InetSocketAddress listen = new InetSocketAddress(bind, port);
        try {
            TurnServer s = TurnServer.start(TurnServer.Config.builder(listen, relayIp, realm,
                    credentials.apply(new TurnAccounts(accounts)))
                    .build());
            LOG.info("node {}: TURN server on UDP {} (relaying on {}, realm {}, {} SIP account(s) as credentials: "
                            + "users log in with their SIP username and password; accounts without an MD5 HA1 cannot)",
                    node, HostPort.format(s.listenAddress()), relayIp.getHostAddress(), realm, accounts.size());
            return s;
        } catch (Exception e) {
            String why = "the TURN server cannot bind UDP " + HostPort.format(listen) + ": "
                    + (e.getMessage() == null ? e.toString() : e.getMessage());
            if (explicit) {
                throw new IllegalStateException(why + "; choose another --turn-port, or -1 for none", e);
            }
            LOG.warn("node {}: {}; this node relays nothing (set --turn-port to choose a port)", node, why);
            return null;
        }
    }

    /** The TURN URI of a server at {@code a} (RFC 7065): {@code turn:HOST:PORT?transport=udp}. */
    public static String uri(InetSocketAddress a) {
        return "turn:" + HostPort.format(a) + "?transport=udp";
    }
}
