package org.p2psip.node.sip;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.storage.PrivateKeyRecord;

/**
 * The node's SIP settings.
 *
 * @param port         the SIP port (UDP and TCP) on the peer's bind address; 0 picks a free one; -1 disables SIP
 * @param domains      the SIP domains this overlay serves; empty: the realms of the accounts file (else
 *                     {@value #FALLBACK_DOMAIN})
 * @param realm        the digest realm; null: the first domain
 * @param accountsFile the digest accounts ({@code username:realm:MD5-HA1:SHA-256-HA1}); null:
 *                     {@code <data-dir>/sip-users}
 * @param algorithms   the digest algorithms offered, in order of preference (default SHA-256, MD5; some phones and
 *                     sipp 3.6 answer only the first challenge, so MD5 alone may be needed for them)
 * @param keyKdf       the Argon2id cost of the users' {@code private:} records (tests lower it)
 * @param tls          SIP over TLS, or null
 * @param dns          RFC 3263 routing to other domains, or null (requests for other domains get 404)
 * @param registrar    another peer's SIP address ({@code host:port}) that registers this peer's phones, this peer being
 *                     their edge proxy (RFC 3327 Path); null: this peer registers its phones itself
 */
public record SipOptions(int port, List<String> domains, String realm, Path accountsFile, List<String> algorithms,
        PrivateKeyRecord.KdfParams keyKdf, Tls tls, Dns dns, String registrar) {
    /** SIP over TLS on {@code port} with the PEM certificate chain and PKCS#8 (or traditional) PEM private key. */
    public record Tls(int port, Path certificate, Path key) {
        public Tls {
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("the SIP TLS port must be within 0..65535: " + port);
            }
            if (certificate == null || key == null) {
                throw new IllegalArgumentException("SIP over TLS needs a certificate file and a key file (PEM)");
            }
        }
    }

    /**
     * @param server the DNS server ({@code host:port}), or null for the system's
     * @param routes per-domain lookup orders, {@code domain=overlay,dns}
     */
    public record Dns(String server, List<String> routes) {
        public Dns {
            routes = List.copyOf(routes);
        }
    }

    /** The standard SIP port. */
    public static final int DEFAULT_PORT = 5060;
    /** The domain served when none is given and the accounts file names no realm. */
    public static final String FALLBACK_DOMAIN = "p2psip.local";

    public SipOptions {
        if (port < -1 || port > 65_535) {
            throw new IllegalArgumentException("the SIP port must be within 0..65535, or -1 to disable SIP: " + port);
        }
        domains = domains.stream().map(d -> d.strip().toLowerCase(Locale.ROOT)).filter(d -> !d.isEmpty()).distinct()
                .toList();
        realm = realm == null || realm.isBlank() ? null : realm.strip();
        algorithms = List.copyOf(algorithms);
        registrar = registrar == null || registrar.isBlank() ? null : registrar.strip();
        if (algorithms.isEmpty()) {
            throw new IllegalArgumentException("offer at least one digest algorithm (SHA-256 or MD5)");
        }
    }

    /** Without the algorithms and the key cost: their defaults. */
    public SipOptions(int port, List<String> domains, String realm, Path accountsFile) {
        this(port, domains, realm, accountsFile, DigestAuthenticator.DEFAULT_ALGORITHMS,
                PrivateKeyRecord.KdfParams.DEFAULT, null, null, null);
    }

    /** SIP on the standard port, domains from the accounts file. */
    public static SipOptions defaults() {
        return new SipOptions(DEFAULT_PORT, List.of(), null, null);
    }

    /** SIP disabled. */
    public static SipOptions disabled() {
        return new SipOptions(-1, List.of(), null, null);
    }

    public boolean enabled() {
        return port >= 0;
    }

    public SipOptions withPort(int p) {
        return new SipOptions(p, domains, realm, accountsFile, algorithms, keyKdf, tls, dns, registrar);
    }

    public SipOptions withDomains(List<String> d) {
        return new SipOptions(port, d, realm, accountsFile, algorithms, keyKdf, tls, dns, registrar);
    }

    public SipOptions withRealm(String r) {
        return new SipOptions(port, domains, r, accountsFile, algorithms, keyKdf, tls, dns, registrar);
    }

    public SipOptions withAccountsFile(Path f) {
        return new SipOptions(port, domains, realm, f, algorithms, keyKdf, tls, dns, registrar);
    }

    public SipOptions withAlgorithms(List<String> a) {
        return new SipOptions(port, domains, realm, accountsFile, a, keyKdf, tls, dns, registrar);
    }

    public SipOptions withTls(Tls t) {
        return new SipOptions(port, domains, realm, accountsFile, algorithms, keyKdf, t, dns, registrar);
    }

    public SipOptions withDns(Dns d) {
        return new SipOptions(port, domains, realm, accountsFile, algorithms, keyKdf, tls, d, registrar);
    }

    /** Relays this peer's phones' REGISTERs to the registrar at {@code hostPort} (this peer is their edge proxy). */
    public SipOptions withRegistrar(String hostPort) {
        return new SipOptions(port, domains, realm, accountsFile, algorithms, keyKdf, tls, dns, hostPort);
    }

    public SipOptions withKeyKdf(PrivateKeyRecord.KdfParams k) {
        return new SipOptions(port, domains, realm, accountsFile, algorithms, k, tls, dns, registrar);
    }
}
