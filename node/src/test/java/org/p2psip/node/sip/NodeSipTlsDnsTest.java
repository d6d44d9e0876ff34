package org.p2psip.node.sip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.math.BigInteger;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipStreamFramer;

/**
 * The node's SIP TLS and DNS options: a peer started with a PEM certificate and key answers an OPTIONS over TLS
 * (JDK client trusting that certificate), and with DNS routing on, a request for another domain from someone who is
 * not a local user is refused with 403 (without DNS it would be 404).
 */
class NodeSipTlsDnsTest {
    @TempDir
    Path tmp;

    @Test
    void tlsFromPemFilesAndDnsRoutingForOtherDomains() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        X500Name name = new X500Name("CN=node-sip-test");
        Instant now = Instant.now();
        X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
                BigInteger.ONE, Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))), name,
                keys.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
        Path certFile = tmp.resolve("sip.crt");
        Path keyFile = tmp.resolve("sip.key");
        try (Writer w = Files.newBufferedWriter(certFile); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(cert);
        }
        try (Writer w = Files.newBufferedWriter(keyFile); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(keys.getPrivate(), null));
        }

        SipOptions sip = new SipOptions(0, List.of("p2p.test"), null, null)
                .withKeyKdf(NodeSipCallTest.TEST_KDF).withTls(new SipOptions.Tls(0, certFile, keyFile))
                .withDns(new SipOptions.Dns(null, List.of("partner.example=overlay,dns")));
        try (Peer p = TestSupport.peer(tmp.resolve("peer")).sip(sip).build()) {
            p.start().get(60, TimeUnit.SECONDS);
            SipPeer s = p.sip();
            assertNotNull(s, "SIP started");
            InetSocketAddress tls = s.stack().transport().tlsAddress().orElseThrow();

            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setCertificateEntry("sip", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            try (SSLSocket socket = (SSLSocket) ctx.getSocketFactory().createSocket(tls.getAddress(), tls.getPort())) {
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                String host = tls.getAddress().getHostAddress();
                String options = "OPTIONS sip:" + host + ":" + s.localAddress().getPort() + " SIP/2.0\r\n"
                        + "Via: SIP/2.0/TLS " + host + ":" + socket.getLocalPort() + ";branch=z9hG4bKnodetls\r\n"
                        + "From: <sip:probe@p2p.test>;tag=1\r\nTo: <sip:" + host + ">\r\nCall-ID: node-tls\r\n"
                        + "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
                OutputStream out = socket.getOutputStream();
                out.write(options.getBytes(StandardCharsets.UTF_8));
                out.flush();
                InputStream in = socket.getInputStream();
                SipStreamFramer framer = new SipStreamFramer(new SipParser(), SipStreamFramer.Role.CLIENT);
                byte[] buf = new byte[4096];
                SipResponse answer = null;
                while (answer == null) {
                    int n = in.read(buf);
                    assertTrue(n > 0, "the peer closed the TLS connection");
                    for (SipStreamFramer.Frame f : framer.feed(buf, 0, n)) {
                        if (f instanceof SipStreamFramer.Message m && m.message() instanceof SipResponse r
                                && r.status() >= 200) {
                            answer = r;
                        }
                    }
                }
                assertEquals(200, answer.status(), answer.toString());
            }

            try (DatagramSocket phone = new DatagramSocket(0, TestSupport.localhost())) {
                phone.setSoTimeout(10_000);
                String msg = "MESSAGE sip:carol@partner.example SIP/2.0\r\n"
                        + "Via: SIP/2.0/UDP " + TestSupport.localhost().getHostAddress() + ":" + phone.getLocalPort()
                        + ";branch=z9hG4bKnodedns;rport\r\n"
                        + "From: <sip:mallory@elsewhere.example>;tag=m\r\nTo: <sip:carol@partner.example>\r\n"
                        + "Call-ID: node-dns\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
                byte[] b = msg.getBytes(StandardCharsets.UTF_8);
                phone.send(new DatagramPacket(b, b.length, s.localAddress()));
                SipResponse r;
                do {
                    DatagramPacket pkt = new DatagramPacket(new byte[65535], 65535);
                    phone.receive(pkt);
                    r = (SipResponse) new SipParser().parseDatagram(pkt.getData(), 0, pkt.getLength());
                } while (r.status() < 200);
                assertEquals(403, r.status(), "another domain, a sender who is not ours: " + r);
            }
        }
    }
}
