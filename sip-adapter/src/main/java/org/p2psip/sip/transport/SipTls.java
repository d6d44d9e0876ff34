package org.p2psip.sip.transport;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * SIP over TLS (RFC 3261 §26.2, RFC 5630): the port the TLS listener binds (5061 by convention; 0 for any free port),
 * the server context (this node's certificate chain and key, TLS 1.2 and 1.3 only) and the client context for
 * connections this node opens to {@code sips:} or {@code transport=tls} targets (it verifies the server against the
 * given trust anchors, or the JDK's default ones when none are given; it presents the same certificate, for peers that
 * ask for one). Phones are not asked for a client certificate: they authenticate with digest, as over UDP and TCP.
 */
public record SipTls(int port, SslContext server, SslContext client) {
    public static final int DEFAULT_PORT = 5061;
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    public SipTls {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("TLS port " + port + " is not within 0..65535");
        }
        if (!server.isServer() || !client.isClient()) {
            throw new IllegalArgumentException("SipTls needs a server context and a client context");
        }
    }

    /**
     * @param chain   this node's certificate first, then its issuers
     * @param trusted anchors for the servers this node connects to; empty: the JDK's default trust store
     */
    public static SipTls of(int port, PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted)
            throws SSLException {
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a TLS certificate chain needs at least the node's certificate");
        }
        X509Certificate[] certs = chain.toArray(X509Certificate[]::new);
        SslContext server = SslContextBuilder.forServer(key, certs).sslProvider(SslProvider.JDK).protocols(PROTOCOLS)
                .clientAuth(ClientAuth.NONE).build();
        SslContextBuilder client = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols(PROTOCOLS)
                .keyManager(key, certs);
        if (!trusted.isEmpty()) {
            client.trustManager(trusted.toArray(X509Certificate[]::new));
        }
        return new SipTls(port, server, client.build());
    }
}
