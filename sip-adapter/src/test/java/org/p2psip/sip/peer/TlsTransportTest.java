package org.p2psip.sip.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Date;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.identity.UserCertificates;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipStreamFramer;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.sip.testing.PolicyMemoryDht;
import org.p2psip.sip.transport.SipTls;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftPolicy;

/**
 * SIP over TLS with the JDK's own TLS client ({@link SSLSocket}) against a peer whose TLS listener has a certificate
 * for 127.0.0.1: a phone registers over TLS (digest), a MESSAGE from a UDP phone reaches it over its TLS connection,
 * and its 200 goes back; a client that does not trust the certificate cannot connect.
 */
class TlsTransportTest {
    static final String DOMAIN = "p2p.test";
    X509Certificate cert;
    SipPeer peer;
    SSLSocket phone;
    InputStream in;
    OutputStream out;
    final SipStreamFramer framer = new SipStreamFramer(new SipParser(), SipStreamFramer.Role.CLIENT);
    final Deque<SipMessage> pending = new ArrayDeque<>();

    @BeforeEach
    void start() throws Exception {
        KeyPair keys = UserCertificates.newKeyPair();
        cert = certificateFor127(keys);
        PolicyMemoryDht dht = new PolicyMemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())),
                System::currentTimeMillis);
        peer = SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret"))).withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1))
                .withTls(SipTls.of(0, keys.getPrivate(), List.of(cert), List.of(cert))), dht);
    }

    @AfterEach
    void stop() throws Exception {
        if (phone != null) {
            phone.close();
        }
        peer.close();
    }

    /** A self-signed P-256 certificate whose subjectAltName is the IP address 127.0.0.1. */
    static X509Certificate certificateFor127(KeyPair keys) throws Exception {
        X500Name name = new X500Name("CN=127.0.0.1");
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, BigInteger.valueOf(now.toEpochMilli()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name,
                keys.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false,
                new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        return new JcaX509CertificateConverter()
                .getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
    }

    static SSLContext trusting(X509Certificate... anchors) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        for (int i = 0; i < anchors.length; i++) {
            ks.setCertificateEntry("a" + i, anchors[i]);
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    SSLSocket connect(SSLContext ctx) throws Exception {
        InetSocketAddress tls = peer.stack().transport().tlsAddress().orElseThrow();
        SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(tls.getAddress(), tls.getPort());
        s.setSoTimeout(10_000);
        var p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name 127.0.0.1
        s.setSSLParameters(p);
        s.startHandshake();
        return s;
    }

    void send(String text) throws Exception {
        out.write(text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    SipMessage next() throws Exception {
        byte[] buf = new byte[8192];
        while (pending.isEmpty()) {
            int n = in.read(buf);
            if (n < 0) {
                throw new java.io.EOFException("the peer closed the TLS connection");
            }
            for (SipStreamFramer.Frame f : framer.feed(buf, 0, n)) {
                if (f instanceof SipStreamFramer.Message m) {
                    pending.add(m.message());
                }
            }
        }
        return pending.poll();
    }

    SipResponse nextFinal() throws Exception {
        while (true) {
            SipMessage m = next();
            if (m instanceof SipResponse r && r.status() >= 200) {
                return r;
            }
        }
    }

    String register(int cseq, int localPort, String authorization) {
        return "REGISTER sips:" + DOMAIN + " SIP/2.0\n"
                + "Via: SIP/2.0/TLS 127.0.0.1:" + localPort + ";branch=z9hG4bKtls" + cseq + ";rport\n"
                + "From: <sips:bob@" + DOMAIN + ">;tag=t1\n"
                + "To: <sips:bob@" + DOMAIN + ">\n"
                + "Call-ID: tls-reg\n"
                + "CSeq: " + cseq + " REGISTER\n"
                + "Contact: <sip:bob@127.0.0.1:" + localPort + ";transport=tls>\n"
                + "Expires: 600\n"
                + (authorization == null ? "" : "Authorization: " + authorization + "\n")
                + "Max-Forwards: 70\nContent-Length: 0\n\n";
    }

    static String credentials(String nonce) {
        String ha1 = DigestAuthenticator.h("MD5", "bob:" + DOMAIN + ":secret");
        String ha2 = DigestAuthenticator.h("MD5", "REGISTER:sips:" + DOMAIN);
        String resp = DigestAuthenticator.h("MD5", ha1 + ":" + nonce + ":00000001:feed:auth:" + ha2);
        return "Digest username=\"bob\", realm=\"" + DOMAIN + "\", nonce=\"" + nonce + "\", uri=\"sips:" + DOMAIN
                + "\", response=\"" + resp + "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"feed\"";
    }

    @Test
    void aPhoneRegistersOverTlsAndReceivesAMessageOnItsTlsConnection() throws Exception {
        phone = connect(trusting(cert));
        in = phone.getInputStream();
        out = phone.getOutputStream();
        int lp = phone.getLocalPort();
        send(register(1, lp, null));
        SipResponse challenge = nextFinal();
        assertEquals(401, challenge.status(), challenge.toString());
        String www = challenge.headers().all(HeaderNames.WWW_AUTHENTICATE).stream()
                .filter(h -> h.contains("MD5")).findFirst().orElseThrow();
        String nonce = www.substring(www.indexOf("nonce=\"") + 7, www.indexOf('"', www.indexOf("nonce=\"") + 7));
        send(register(2, lp, credentials(nonce)));
        SipResponse ok = nextFinal();
        assertEquals(200, ok.status(), ok.toString());
        assertEquals(1, ok.contacts().size(), ok.toString());

        // alice, a UDP phone, sends bob a MESSAGE: it arrives over bob's TLS connection
        try (DatagramSocket alice = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            alice.setSoTimeout(10_000);
            String msg = "MESSAGE sip:bob@" + DOMAIN + " SIP/2.0\r\n"
                    + "Via: SIP/2.0/UDP 127.0.0.1:" + alice.getLocalPort() + ";branch=z9hG4bKudpmsg;rport\r\n"
                    + "From: <sip:alice@" + DOMAIN + ">;tag=a1\r\nTo: <sip:bob@" + DOMAIN + ">\r\n"
                    + "Call-ID: tls-msg\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
                    + "Content-Type: text/plain\r\nContent-Length: 9\r\n\r\nover tls!";
            byte[] b = msg.getBytes(StandardCharsets.UTF_8);
            alice.send(new DatagramPacket(b, b.length, peer.localAddress()));
            SipMessage got = next();
            SipRequest m = (SipRequest) got;
            assertEquals("MESSAGE", m.method());
            assertEquals("over tls!", m.bodyText());
            assertTrue(m.topVia().transport().equalsIgnoreCase("TLS"), m.topVia().toString());
            assertEquals(peer.stack().transport().tlsAddress().orElseThrow().getPort(), m.topVia().portOrDefault(),
                    "our Via on a TLS branch names the TLS port");
            out.write(SipResponse.forRequest(m, 200, "OK", "b1").encode());
            out.flush();
            while (true) {
                DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
                alice.receive(p);
                SipResponse r = (SipResponse) new SipParser().parseDatagram(p.getData(), 0, p.getLength());
                if (r.status() >= 200) {
                    assertEquals(200, r.status(), r.toString());
                    break;
                }
            }
        }
    }

    /** Our own TLS client side: a transport opens a TLS connection to another one's TLS port and verifies it. */
    @Test
    void ourTransportConnectsOverTlsAndVerifiesTheServer() throws Exception {
        KeyPair keys = UserCertificates.newKeyPair();
        X509Certificate mine = certificateFor127(keys);
        var received = new java.util.concurrent.LinkedBlockingQueue<org.p2psip.sip.transport.Source>();
        InetSocketAddress lo = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        try (var server = org.p2psip.sip.transport.SipTransport.start(org.p2psip.sip.transport.SipTransport.Config.of(lo)
                        .withTls(SipTls.of(0, keys.getPrivate(), List.of(mine), List.of())), (m, src) -> received.add(src));
                var client = org.p2psip.sip.transport.SipTransport.start(org.p2psip.sip.transport.SipTransport.Config.of(lo)
                        .withTls(SipTls.of(0, keys.getPrivate(), List.of(mine), List.of(mine))), (m, src) -> { });
                var untrusting = org.p2psip.sip.transport.SipTransport.start(
                        org.p2psip.sip.transport.SipTransport.Config.of(lo).withTls(SipTls.of(0, keys.getPrivate(),
                                List.of(mine), List.of(cert))), (m, src) -> { })) {
            InetSocketAddress tls = server.tlsAddress().orElseThrow();
            String options = "OPTIONS sips:x@127.0.0.1:" + tls.getPort() + " SIP/2.0\r\n"
                    + "Via: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtlsclient\r\n"
                    + "From: <sips:a@127.0.0.1>;tag=1\r\nTo: <sips:x@127.0.0.1>\r\nCall-ID: tls-client\r\n"
                    + "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
            SipMessage m = new SipParser().parseDatagram(options.getBytes(StandardCharsets.UTF_8));
            var target = new org.p2psip.sip.transport.Target(org.p2psip.sip.transport.Transport.TLS, tls);
            client.send(m, target).get(10, java.util.concurrent.TimeUnit.SECONDS);
            var src = received.poll(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(org.p2psip.sip.transport.Transport.TLS, src.transport());
            // a transport whose trust anchors do not include the server's certificate never delivers
            untrusting.send(m, target).exceptionally(e -> null).get(10, java.util.concurrent.TimeUnit.SECONDS);
            assertEquals(null, received.poll(1, java.util.concurrent.TimeUnit.SECONDS));
        }
    }

    @Test
    void aClientThatDoesNotTrustTheCertificateCannotConnect() throws Exception {
        KeyPair other = UserCertificates.newKeyPair();
        SSLContext wrongAnchor = trusting(certificateFor127(other));
        assertThrows(SSLHandshakeException.class, () -> connect(wrongAnchor).close());
    }
}
