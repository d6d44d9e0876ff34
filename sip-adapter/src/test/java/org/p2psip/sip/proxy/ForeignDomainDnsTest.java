package org.p2psip.sip.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.SipPeer;
import org.p2psip.sip.dns.DnsSettings;
import org.p2psip.sip.dns.DomainRouting;
import org.p2psip.sip.dns.SipDnsResolver;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.registrar.DigestAccounts;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.sip.testing.PolicyMemoryDht;
import org.p2psip.testing.Prerequisites;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.PrivateKeyRecord;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.api.DraftPolicy;
import org.p2psip.testing.Ports;
import org.p2psip.testing.UdpPorts;

/**
 * RFC 3263 against a real DNS server: dnsmasq (Debian {@code dnsmasq-base}), started by the test on 127.0.0.1 with
 * NAPTR, SRV and A records, serves the zones {@code naptr.test} (NAPTR → SRV → A), {@code srv.test} (SRV → A, no
 * NAPTR) and {@code plain.test} (A only). A peer routes MESSAGEs from its own user (digest, 407) to UDP sockets
 * standing for those domains' servers; other senders get 403, unknown domains 404.
 */
class ForeignDomainDnsTest {
    static final String DOMAIN = "p2p.test";
    static Process dnsmasq;
    static InetSocketAddress dnsServer;
    static DatagramSocket naptrServer;
    static DatagramSocket srvServerLow;
    static DatagramSocket srvServerHigh;
    static DatagramSocket plainServer;
    static Path dir;

    SipPeer peer;
    DatagramSocket phone;

    @BeforeAll
    static void startDns() throws Exception {
        Prerequisites.requireTools("dnsmasq");
        InetAddress lo = InetAddress.getLoopbackAddress();
        naptrServer = new DatagramSocket(0, lo);
        srvServerLow = new DatagramSocket(0, lo);
        srvServerHigh = new DatagramSocket(0, lo);
        plainServer = new DatagramSocket(0, lo);
        for (DatagramSocket s : List.of(naptrServer, srvServerLow, srvServerHigh, plainServer)) {
            s.setSoTimeout(10_000);
        }
        dir = Files.createTempDirectory("dnsmasq");
        int port = Ports.freeUdpPort(); // below the ephemeral range: no socket bound to port 0 takes it meanwhile
        List<String> cmd = new ArrayList<>(List.of(Prerequisites.which("dnsmasq"), "--no-daemon", "--conf-file=/dev/null",
                "--port=" + port, "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
                "--pid-file=" + dir.resolve("pid"), "--log-queries", "--log-facility=-",
                // NAPTR: UDP first (order 10), then TCP; SRV of the UDP service points at the server socket
                "--naptr-record=naptr.test,10,50,s,SIP+D2U,,_sip._udp.naptr.test",
                "--naptr-record=naptr.test,20,50,s,SIP+D2T,,_sip._tcp.naptr.test",
                "--srv-host=_sip._udp.naptr.test,sip1.naptr.test," + naptrServer.getLocalPort() + ",0,5",
                "--host-record=sip1.naptr.test,127.0.0.1",
                // SRV only: priority 10 before priority 20
                "--srv-host=_sip._udp.srv.test,low.srv.test," + srvServerLow.getLocalPort() + ",10,5",
                "--srv-host=_sip._udp.srv.test,high.srv.test," + srvServerHigh.getLocalPort() + ",20,5",
                "--host-record=low.srv.test,127.0.0.1",
                "--host-record=high.srv.test,127.0.0.1",
                // A only
                "--host-record=plain.test,127.0.0.1"));
        dnsmasq = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("dnsmasq.log").toFile())
                .start();
        dnsServer = new InetSocketAddress("127.0.0.1", port);
        // wait until it holds its port, then until it answers (a query for plain.test through our own resolver)
        assertTrue(UdpPorts.awaitBound(dnsmasq, port, 20_000), () -> "dnsmasq did not bind 127.0.0.1:" + port
                + " within 20 s: " + log());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        var group = loopGroup();
        try (SipDnsResolver r = new SipDnsResolver(group.next(), dnsServer)) {
            while (true) {
                assertTrue(dnsmasq.isAlive(), () -> "dnsmasq exited: " + log());
                List<Target> t = r.locate(SipUri.parse("sip:x@plain.test:5099")).get(20, TimeUnit.SECONDS);
                if (!t.isEmpty()) {
                    break;
                }
                assertTrue(System.nanoTime() < deadline, () -> "dnsmasq did not answer within 20 s: " + log());
                Thread.sleep(100);
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** An event loop of the kind the SIP transport uses (epoll where available), as the resolver expects. */
    static io.netty.channel.MultiThreadIoEventLoopGroup loopGroup() {
        return new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.epoll.Epoll.isAvailable()
                ? io.netty.channel.epoll.EpollIoHandler.newFactory() : io.netty.channel.nio.NioIoHandler.newFactory());
    }

    static String log() {
        try {
            return Files.readString(dir.resolve("dnsmasq.log"));
        } catch (Exception e) {
            return e.toString();
        }
    }

    @AfterAll
    static void stopDns() throws Exception {
        if (dnsmasq != null) {
            dnsmasq.destroy();
            dnsmasq.waitFor(10, TimeUnit.SECONDS);
        }
        for (DatagramSocket s : new DatagramSocket[] {naptrServer, srvServerLow, srvServerHigh, plainServer}) {
            if (s != null) {
                s.close();
            }
        }
    }

    @BeforeEach
    void start() throws Exception {
        // retransmissions a previous test left in the server sockets are not this test's requests
        for (DatagramSocket s : List.of(naptrServer, srvServerLow, srvServerHigh, plainServer)) {
            s.setSoTimeout(50);
            try {
                while (true) {
                    s.receive(new DatagramPacket(new byte[65535], 65535));
                }
            } catch (java.net.SocketTimeoutException drained) {
                s.setSoTimeout(10_000);
            }
        }
        PolicyMemoryDht dht = new PolicyMemoryDht(DraftPolicy.of(SignedRecordPolicy.tofu(NameOwners.inMemory())),
                System::currentTimeMillis);
        peer = SipPeer.start(SipPeer.Config.of(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), DOMAIN,
                DigestAccounts.of(Map.of("bob", "secret"))).withKeyKdf(new PrivateKeyRecord.KdfParams(1024, 1, 1))
                .withDns(new DnsSettings(dnsServer, DomainRouting.DEFAULT)), dht);
        phone = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        phone.setSoTimeout(10_000);
    }

    @AfterEach
    void stop() {
        phone.close();
        peer.close();
    }

    String message(String ruri, String from, String auth) {
        return "MESSAGE " + ruri + " SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + phone.getLocalPort() + ";branch=z9hG4bK"
                + ThreadLocalRandom.current().nextLong(1L << 40) + ";rport\r\n"
                + "From: <sip:" + from + ">;tag=f1\r\nTo: <" + ruri + ">\r\n"
                + "Call-ID: dns-" + ThreadLocalRandom.current().nextLong(1L << 40) + "\r\nCSeq: 1 MESSAGE\r\n"
                + (auth == null ? "" : "Proxy-Authorization: " + auth + "\r\n")
                + "Max-Forwards: 70\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi";
    }

    SipResponse send(String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        phone.send(new DatagramPacket(b, b.length, peer.localAddress()));
        while (true) {
            SipResponse r = (SipResponse) receive(phone);
            if (r.status() >= 200) {
                return r;
            }
        }
    }

    static SipMessage receive(DatagramSocket s) throws Exception {
        DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
        s.receive(p);
        return new SipParser().parseDatagram(p.getData(), 0, p.getLength());
    }

    /** bob authenticates (407, then Proxy-Authorization); the request must reach {@code server}, which answers 200. */
    void deliversTo(String ruri, DatagramSocket server) throws Exception {
        SipResponse challenge = send(message(ruri, "bob@" + DOMAIN, null));
        assertEquals(407, challenge.status(), challenge.toString());
        String pa = challenge.headers().all(HeaderNames.PROXY_AUTHENTICATE).stream().filter(h -> h.contains("MD5"))
                .findFirst().orElseThrow();
        int i = pa.indexOf("nonce=\"") + 7;
        String nonce = pa.substring(i, pa.indexOf('"', i));
        String ha1 = DigestAuthenticator.h("MD5", "bob:" + DOMAIN + ":secret");
        String ha2 = DigestAuthenticator.h("MD5", "MESSAGE:" + ruri);
        String resp = DigestAuthenticator.h("MD5", ha1 + ":" + nonce + ":00000001:abc:auth:" + ha2);
        String auth = "Digest username=\"bob\", realm=\"" + DOMAIN + "\", nonce=\"" + nonce + "\", uri=\"" + ruri
                + "\", response=\"" + resp + "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abc\"";
        byte[] b = message(ruri, "bob@" + DOMAIN, auth).getBytes(StandardCharsets.UTF_8);
        phone.send(new DatagramPacket(b, b.length, peer.localAddress()));
        SipRequest got = (SipRequest) receive(server);
        assertEquals(ruri, got.requestUri().toString());
        assertTrue(got.headers().all(HeaderNames.PROXY_AUTHORIZATION).isEmpty(), "our credentials are not passed on");
        assertEquals(2, got.vias().size(), "the peer's Via on top of the phone's");
        SipResponse ok = SipResponse.forRequest(got, 200, "OK", "srv");
        byte[] ob = ok.encode();
        InetSocketAddress back = new InetSocketAddress(got.topVia().host(), got.topVia().portOrDefault());
        server.send(new DatagramPacket(ob, ob.length, back));
        while (true) {
            SipResponse r = (SipResponse) receive(phone);
            if (r.status() >= 200) {
                assertEquals(200, r.status(), r.toString());
                return;
            }
        }
    }

    @Test
    void naptrThenSrvThenA() throws Exception {
        deliversTo("sip:carol@naptr.test", naptrServer);
    }

    @Test
    void srvByPriorityWithoutNaptr() throws Exception {
        deliversTo("sip:dave@srv.test", srvServerLow);
    }

    /** RFC 3263 §4.3: a 503 from the priority-10 server sends the request on to the priority-20 one. */
    @Test
    void a503FromTheFirstSrvTargetFailsOverToTheNext() throws Exception {
        String ruri = "sip:frank@srv.test";
        SipResponse challenge = send(message(ruri, "bob@" + DOMAIN, null));
        assertEquals(407, challenge.status(), challenge.toString());
        String pa = challenge.headers().all(HeaderNames.PROXY_AUTHENTICATE).stream().filter(h -> h.contains("MD5"))
                .findFirst().orElseThrow();
        int i = pa.indexOf("nonce=\"") + 7;
        String nonce = pa.substring(i, pa.indexOf('"', i));
        String ha1 = DigestAuthenticator.h("MD5", "bob:" + DOMAIN + ":secret");
        String ha2 = DigestAuthenticator.h("MD5", "MESSAGE:" + ruri);
        String resp = DigestAuthenticator.h("MD5", ha1 + ":" + nonce + ":00000001:abc:auth:" + ha2);
        String auth = "Digest username=\"bob\", realm=\"" + DOMAIN + "\", nonce=\"" + nonce + "\", uri=\"" + ruri
                + "\", response=\"" + resp + "\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"abc\"";
        byte[] b = message(ruri, "bob@" + DOMAIN, auth).getBytes(StandardCharsets.UTF_8);
        phone.send(new DatagramPacket(b, b.length, peer.localAddress()));
        for (DatagramSocket server : List.of(srvServerLow, srvServerHigh)) {
            SipRequest got = (SipRequest) receive(server);
            assertEquals(ruri, got.requestUri().toString());
            SipResponse answer = SipResponse.forRequest(got, server == srvServerLow ? 503 : 200,
                    server == srvServerLow ? "Service Unavailable" : "OK", "x");
            byte[] ab = answer.encode();
            server.send(new DatagramPacket(ab, ab.length,
                    new InetSocketAddress(got.topVia().host(), got.topVia().portOrDefault())));
        }
        while (true) {
            SipResponse r = (SipResponse) receive(phone);
            if (r.status() >= 200) {
                assertEquals(200, r.status(), "the second server's 200 goes up, not the first one's 503");
                return;
            }
        }
    }

    @Test
    void aRecordWithAnExplicitPort() throws Exception {
        deliversTo("sip:erin@plain.test:" + plainServer.getLocalPort(), plainServer);
    }

    @Test
    void sendersWhoAreNotOurUsersAre403AndUnknownDomains404() throws Exception {
        assertEquals(403, send(message("sip:carol@naptr.test", "mallory@elsewhere.test", null)).status());
        SipResponse challenge = send(message("sip:nobody@nx.test", "bob@" + DOMAIN, null));
        assertEquals(407, challenge.status(), "even a lookup needs credentials");
    }

    @Test
    void theResolverOrdersNaptrSrvAndFallsBackToA() throws Exception {
        var group = loopGroup();
        try (SipDnsResolver r = new SipDnsResolver(group.next(), dnsServer)) {
            List<Target> naptr = r.locate(SipUri.parse("sip:carol@naptr.test")).get(10, TimeUnit.SECONDS);
            assertEquals(new Target(Transport.UDP, new InetSocketAddress("127.0.0.1", naptrServer.getLocalPort())),
                    naptr.get(0));
            List<Target> srv = r.locate(SipUri.parse("sip:dave@srv.test")).get(10, TimeUnit.SECONDS);
            assertEquals(List.of(srvServerLow.getLocalPort(), srvServerHigh.getLocalPort()),
                    srv.stream().map(t -> t.address().getPort()).toList(), "priority 10 before 20");
            List<Target> a = r.locate(SipUri.parse("sip:x@plain.test")).get(10, TimeUnit.SECONDS);
            assertEquals(List.of(new Target(Transport.UDP, new InetSocketAddress("127.0.0.1", 5060))), a,
                    "no NAPTR, no SRV: A at 5060 over UDP");
            List<Target> tcp = r.locate(SipUri.parse("sip:x@plain.test;transport=tcp")).get(10, TimeUnit.SECONDS);
            assertEquals(Transport.TCP, tcp.get(0).transport());
            assertTrue(r.locate(SipUri.parse("sip:x@nx.test")).get(10, TimeUnit.SECONDS).isEmpty());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    @Test
    void perDomainOrderParses() {
        DomainRouting d = DomainRouting.DEFAULT.with("Partner.example=overlay,dns").with("p2p.test=dns");
        assertEquals(List.of(DomainRouting.Lookup.OVERLAY, DomainRouting.Lookup.DNS), d.orderFor("partner.example", false));
        assertEquals(List.of(DomainRouting.Lookup.DNS), d.orderFor("p2p.test", true));
        assertEquals(List.of(DomainRouting.Lookup.DNS, DomainRouting.Lookup.OVERLAY), d.orderFor("other.example", false));
        assertEquals(List.of(DomainRouting.Lookup.OVERLAY), d.orderFor("served.example", true));
        assertFalse(catches(() -> DomainRouting.DEFAULT.with("x.example=carrier-pigeon")) == null);
    }

    static Exception catches(Runnable r) {
        try {
            r.run();
            return null;
        } catch (IllegalArgumentException e) {
            return e;
        }
    }
}
