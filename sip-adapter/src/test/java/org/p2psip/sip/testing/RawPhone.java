package org.p2psip.sip.testing;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.registrar.DigestAuthenticator;

/**
 * A hand-driven SIP phone on a real UDP socket on 127.0.0.1, for registrar tests that need exact requests (sipp
 * cannot send a chosen Authorization or a malformed Contact): it writes REGISTERs and answers digest challenges.
 */
public final class RawPhone implements AutoCloseable {
    private final DatagramSocket socket;

    /** Binds an ephemeral port; a receive waits at most {@code timeoutMillis}. */
    public RawPhone(int timeoutMillis) throws SocketException {
        this(new DatagramSocket(0, InetAddress.getLoopbackAddress()));
        socket.setSoTimeout(timeoutMillis);
    }

    /** Drives a socket the test also uses directly (for datagrams this class does not write). */
    public RawPhone(DatagramSocket socket) {
        this.socket = socket;
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** Sends {@code text} (lines ending in LF, turned into CRLF) and returns the first non-100 response. */
    public SipResponse send(InetSocketAddress to, String text) throws IOException {
        byte[] b = text.replace("\n", "\r\n").getBytes(StandardCharsets.UTF_8);
        socket.send(new DatagramPacket(b, b.length, to));
        while (true) {
            DatagramPacket p = new DatagramPacket(new byte[65535], 65535);
            socket.receive(p);
            SipResponse r = (SipResponse) new SipParser().parseDatagram(p.getData(), 0, p.getLength());
            if (r.status() != 100) {
                return r;
            }
        }
    }

    /**
     * A REGISTER of {@code user@domain} from this phone, with Call-ID {@code callId}, the given Contact header lines
     * ({@code "Contact: ...\n"}, possibly several or none), and an Expires and Authorization header when not null.
     */
    public String register(String user, String domain, String callId, int cseq, String contacts, String expires,
                           String authorization) {
        return "REGISTER sip:" + domain + " SIP/2.0\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:" + port() + ";branch=z9hG4bK"
                + ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE) + ";rport\n"
                + "From: <sip:" + user + "@" + domain + ">;tag=1\n"
                + "To: <sip:" + user + "@" + domain + ">\n"
                + "Call-ID: " + callId + "\n"
                + "CSeq: " + cseq + " REGISTER\n"
                + contacts
                + (expires == null ? "" : "Expires: " + expires + "\n")
                + (authorization == null ? "" : "Authorization: " + authorization + "\n")
                + "Max-Forwards: 70\nContent-Length: 0\n\n";
    }

    /** The nonce of a 401's WWW-Authenticate. */
    public static String nonce(SipResponse challenge) {
        String v = challenge.headers().first(HeaderNames.WWW_AUTHENTICATE).orElseThrow();
        int i = v.indexOf("nonce=\"") + 7;
        return v.substring(i, v.indexOf('"', i));
    }

    /** The Authorization value answering {@code nonce} for a REGISTER to {@code sip:domain}, with qop=auth. */
    public static String digest(String alg, String user, String domain, String password, String nonce) {
        String ha1 = DigestAuthenticator.h(alg, user + ":" + domain + ":" + password);
        String ha2 = DigestAuthenticator.h(alg, "REGISTER:sip:" + domain);
        String resp = DigestAuthenticator.h(alg, ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2);
        return "Digest username=\"" + user + "\", realm=\"" + domain + "\", nonce=\"" + nonce + "\", uri=\"sip:" + domain
                + "\", response=\"" + resp + "\", algorithm=" + alg + ", qop=auth, nc=00000001, cnonce=\"c0ffee\"";
    }

    /**
     * The Proxy-Authorization value answering a 407's first (SHA-256 or MD5) challenge for {@code method} to
     * {@code uri}, with qop=auth.
     */
    public static String proxyDigest(SipResponse challenge, String user, String realm, String password, String method,
            String uri) {
        String v = challenge.headers().first(HeaderNames.PROXY_AUTHENTICATE).orElseThrow();
        int i = v.indexOf("nonce=\"") + 7;
        String nonce = v.substring(i, v.indexOf('"', i));
        String alg = v.contains("algorithm=SHA-256") ? "SHA-256" : "MD5";
        String ha1 = DigestAuthenticator.h(alg, user + ":" + realm + ":" + password);
        String ha2 = DigestAuthenticator.h(alg, method + ":" + uri);
        String resp = DigestAuthenticator.h(alg, ha1 + ":" + nonce + ":00000001:c0ffee:auth:" + ha2);
        return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" + uri
                + "\", response=\"" + resp + "\", algorithm=" + alg + ", qop=auth, nc=00000001, cnonce=\"c0ffee\"";
    }

    @Override
    public void close() {
        socket.close();
    }
}
