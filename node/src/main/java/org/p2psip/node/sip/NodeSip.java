package org.p2psip.node.sip;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.accounts.ReloadingAccounts;
import org.p2psip.overlay.Dht;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.registrar.Ha1Accounts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the SIP adapter ({@link SipPeer}) of a node on the node's own DHT, with the digest accounts of the node's
 * {@code sip-users} file (HA1 only, {@link Ha1Accounts}; re-read when it changes, {@link ReloadingAccounts}) and its
 * users' keys under {@code <data-dir>/sip-keys}.
 */
public final class NodeSip {
    private static final Logger LOG = LoggerFactory.getLogger(NodeSip.class);

    private NodeSip() { }

    /**
     * Reads the accounts, binds the SIP port and starts the adapter.
     *
     * @throws IOException with a message naming the port or file and what to do, when the accounts file cannot be
     *                     read or the SIP port cannot be bound
     */
    public static SipPeer start(SipOptions options, InetAddress bind, Path dataDir, Dht dht) throws IOException {
        return start(options, bind, dataDir, dht, null, null);
    }

    /**
     * As above, carrying SIP over the overlay ({@code overlay}, may be null) to peers other sites cannot reach. The
     * records the adapter signs are remembered in {@code signedHere} (may be null), which the node's own storage
     * policy shares, so that its local replica of them is not verified again.
     */
    public static SipPeer start(SipOptions options, InetAddress bind, Path dataDir, Dht dht,
            org.p2psip.sip.overlay.SipOverlay overlay, org.p2psip.storage.LocallySigned signedHere) throws IOException {
        Path file = accountsFile(options, dataDir);
        List<DigestAccounts.Account> read;
        try {
            read = DigestAccounts.read(file);
        } catch (IOException e) {
            throw new IOException("cannot read the SIP accounts " + file + ": " + e.getMessage(), e);
        }
        List<String> domains = domains(options, read);
        String realm = options.realm() != null ? options.realm() : domains.get(0);
        // the file is re-read when it changes: 'p2psip user add' takes effect without a restart
        ReloadingAccounts credentials;
        try {
            credentials = ReloadingAccounts.open(file, realm);
        } catch (IOException e) {
            throw new IOException("cannot read the SIP accounts " + file + ": " + e.getMessage(), e);
        }
        if (read.isEmpty()) {
            LOG.warn("SIP: no accounts in {}; every REGISTER will be refused until you add one with"
                    + " 'p2psip user add USER@{}' (read again when the file changes)", file, realm);
        }
        for (Ha1Accounts.Account a : credentials.current().outside(realm)) {
            LOG.warn("SIP: account {}@{} in {} cannot register here: its realm is not this peer's realm {} (HA1"
                    + " depends on the realm); add it again with 'p2psip user add {}@{}', or use --sip-domain {}",
                    a.user(), a.realm(), file, realm, a.user(), realm, a.realm());
        }
        InetAddress sipBind = bind;
        if (bind.isAnyLocalAddress()) {
            // other peers forward to the address in this peer's contact records (its path): it must be concrete
            sipBind = routableAddress();
            LOG.info("SIP: the node binds the wildcard address, but SIP writes its own address into contact records"
                    + " as the place other peers forward to; binding SIP to {} (give --bind ADDRESS to choose)",
                    sipBind.getHostAddress());
        }
        InetSocketAddress addr = new InetSocketAddress(sipBind, options.port());
        SipPeer.Config config = SipPeer.Config.of(addr, domains.get(0), credentials)
                .withDomains(new LinkedHashSet<>(domains), realm).withDataDir(dataDir)
                .withAlgorithms(options.algorithms()).withKeyKdf(options.keyKdf());
        if (options.tls() != null) {
            config = config.withTls(tls(options.tls()));
        }
        if (options.dns() != null) {
            config = config.withDns(dns(options.dns()));
        }
        SipPeer peer;
        try {
            peer = SipPeer.start(config, dht, overlay, signedHere);
        } catch (IOException e) {
            throw new IOException("cannot open the SIP port " + options.port() + " on " + sipBind.getHostAddress()
                    + " (UDP and TCP): " + e.getMessage() + "; is another SIP server running there? Choose another"
                    + " port with --sip-port (0 picks a free one), or disable SIP with --sip-port -1", e);
        }
        if (options.registrar() != null) {
            org.p2psip.sip.message.SipUri up = registrarUri(options.registrar());
            peer.proxy().upstreamRegistrar(() -> java.util.Optional.of(up));
            LOG.info("SIP: edge proxy for this peer's phones: their REGISTERs go to the registrar {} with this peer's"
                    + " Path, and calls to them come back through here", up);
        }
        LOG.info("SIP: listening on {} (UDP and TCP{}), domains {}, realm {}, {} account(s) from {}{}",
                org.p2psip.node.HostPort.format(peer.localAddress()),
                peer.stack().transport().tlsAddress().map(a -> "; TLS on port " + a.getPort()).orElse(""), domains,
                realm, credentials.size(), file, options.dns() == null ? ""
                        : "; other domains by RFC 3263 DNS for authenticated local users");
        return peer;
    }

    /**
     * The SIP URI of the registrar at {@code hostPort} ({@code sip:HOST:PORT;lr}; port 5060 by default).
     *
     * @throws IllegalArgumentException naming the value when it is no literal address with an optional port
     */
    public static org.p2psip.sip.message.SipUri registrarUri(String hostPort) {
        InetSocketAddress a;
        try {
            var hp = org.p2psip.node.HostPort.parse(hostPort, SipOptions.DEFAULT_PORT);
            if (!com.google.common.net.InetAddresses.isInetAddress(hp.getHostString())) {
                throw new IllegalArgumentException("not a literal address");
            }
            a = new InetSocketAddress(com.google.common.net.InetAddresses.forString(hp.getHostString()), hp.getPort());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("the SIP registrar '" + hostPort + "' is not an IP address with an"
                    + " optional port (e.g. 192.0.2.10:5060): " + e.getMessage(), e);
        }
        return org.p2psip.sip.message.SipUri.parse(org.p2psip.sip.proxy.Proxy.selfUri(a));
    }

    /** The digest accounts file: the configured one, else {@code <data-dir>/sip-users}. */
    public static Path accountsFile(SipOptions options, Path dataDir) {
        return options.accountsFile() != null ? options.accountsFile() : dataDir.resolve(DigestAccounts.FILE_NAME);
    }

    /** The served domains: the configured ones, else the realms of the accounts, else the fallback domain. */
    private static List<String> domains(SipOptions options, List<DigestAccounts.Account> read) {
        Set<String> realms = new LinkedHashSet<>();
        for (DigestAccounts.Account a : read) {
            realms.add(a.realm().toLowerCase(java.util.Locale.ROOT));
        }
        return !options.domains().isEmpty() ? options.domains()
                : realms.isEmpty() ? List.of(SipOptions.FALLBACK_DOMAIN) : List.copyOf(realms);
    }

    /**
     * The digest realm the adapter uses with these settings and accounts (the configured one, else the first
     * domain); TURN uses the same, so an account's MD5 HA1 is its TURN key.
     */
    public static String realm(SipOptions options, List<DigestAccounts.Account> read) {
        return options.realm() != null ? options.realm() : domains(options, read).get(0);
    }

    /** The TLS settings of the SIP adapter: the PEM certificate chain and private key read from their files. */
    static org.p2psip.sip.transport.SipTls tls(SipOptions.Tls t) throws IOException {
        List<java.security.cert.X509Certificate> chain = new ArrayList<>();
        java.security.PrivateKey key = null;
        try (var certs = new org.bouncycastle.openssl.PEMParser(java.nio.file.Files.newBufferedReader(t.certificate()))) {
            Object o;
            while ((o = certs.readObject()) != null) {
                if (o instanceof org.bouncycastle.cert.X509CertificateHolder h) {
                    chain.add(new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(h));
                }
            }
        } catch (java.security.cert.CertificateException | RuntimeException e) {
            throw new IOException("cannot read the SIP TLS certificate " + t.certificate() + ": " + e.getMessage()
                    + "; give a PEM file with the certificate first, then its issuers", e);
        }
        try (var keys = new org.bouncycastle.openssl.PEMParser(java.nio.file.Files.newBufferedReader(t.key()))) {
            Object o = keys.readObject();
            var conv = new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter();
            if (o instanceof org.bouncycastle.asn1.pkcs.PrivateKeyInfo pki) {
                key = conv.getPrivateKey(pki);
            } else if (o instanceof org.bouncycastle.openssl.PEMKeyPair kp) {
                key = conv.getKeyPair(kp).getPrivate();
            }
        } catch (RuntimeException e) {
            throw new IOException("cannot read the SIP TLS key " + t.key() + ": " + e.getMessage(), e);
        }
        if (chain.isEmpty() || key == null) {
            throw new IOException("SIP TLS needs a PEM certificate in " + t.certificate() + " and an unencrypted PEM"
                    + " private key in " + t.key() + " (found " + chain.size() + " certificate(s), "
                    + (key == null ? "no key" : "a key") + ")");
        }
        return org.p2psip.sip.transport.SipTls.of(t.port(), key, chain, List.of());
    }

    /** The RFC 3263 settings: the DNS server (null: the system's) and the per-domain lookup orders. */
    static org.p2psip.sip.dns.DnsSettings dns(SipOptions.Dns d) {
        org.p2psip.sip.dns.DomainRouting routing = org.p2psip.sip.dns.DomainRouting.DEFAULT;
        for (String r : d.routes()) {
            routing = routing.with(r);
        }
        InetSocketAddress server = null;
        if (d.server() != null) {
            var hp = org.p2psip.node.HostPort.parse(d.server(), 53);
            server = new InetSocketAddress(hp.getHostString(), hp.getPort());
        }
        return new org.p2psip.sip.dns.DnsSettings(server, routing);
    }

    /** The first up, non-loopback, non-link-local IPv4 address of this host; else 127.0.0.1. */
    static InetAddress routableAddress() {
        try {
            for (java.net.NetworkInterface ni : java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces())) {
                if (!ni.isUp() || ni.isLoopback()) {
                    continue;
                }
                for (InetAddress a : java.util.Collections.list(ni.getInetAddresses())) {
                    if (a instanceof java.net.Inet4Address && !a.isLinkLocalAddress() && !a.isLoopbackAddress()) {
                        return a;
                    }
                }
            }
        } catch (java.net.SocketException e) {
            LOG.debug("cannot list the network interfaces: {}", e.toString());
        }
        return InetAddress.getLoopbackAddress();
    }
}
