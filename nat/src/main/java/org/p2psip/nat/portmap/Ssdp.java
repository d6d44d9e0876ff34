package org.p2psip.nat.portmap;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * SSDP discovery of an Internet Gateway Device (UPnP Device Architecture 1.1, section 1.3): an M-SEARCH to
 * 239.255.255.250:1900 and the first acceptable answer's LOCATION. Answers are untrusted: at most 2 KiB, an HTTP 200
 * status line, a LOCATION that is an http URL whose host is the literal address of the answering device (so a
 * device cannot send us to fetch from a third host). When the router is known, only its answers count.
 */
final class Ssdp {
    static final InetSocketAddress GROUP = new InetSocketAddress(NatPmpCodec.ipv4(new byte[] {(byte) 239, (byte) 255,
            (byte) 255, (byte) 250}), 1900);
    static final int MAX_ANSWER = 2048;
    static final String[] TARGETS = {"urn:schemas-upnp-org:device:InternetGatewayDevice:2",
            "urn:schemas-upnp-org:device:InternetGatewayDevice:1"};

    private Ssdp() {
    }

    static byte[] search(String target, int mx) {
        return ("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: " + mx
                + "\r\nST: " + target + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Searches from {@code local}; returns the device description URL. */
    static URI discover(InetAddress local, InetAddress router, Duration wait) throws PortMappingException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(local, 0))) {
            // MX 1: devices delay their answer by up to MX seconds, which must stay well inside our wait.
            int mx = 1;
            for (String t : TARGETS) {
                byte[] m = search(t, mx);
                socket.send(new DatagramPacket(m, m.length, GROUP));
            }
            long deadline = System.nanoTime() + wait.toNanos();
            byte[] buf = new byte[MAX_ANSWER + 1];
            String lastProblem = null;
            DatagramPacket p;
            while ((p = UdpExchange.receiveBefore(socket, deadline, buf)) != null) {
                if (router != null && !p.getAddress().equals(router)) {
                    continue;
                }
                try {
                    return parseAnswer(p.getData(), p.getLength(), p.getAddress());
                } catch (MalformedReplyException e) {
                    lastProblem = e.getMessage();
                }
            }
            throw new PortMappingException("no UPnP Internet Gateway Device answered an SSDP search from "
                    + local.getHostAddress() + " within " + wait.toMillis() + " ms"
                    + (lastProblem == null ? "" : " (ignored a bad answer: " + lastProblem + ")"));
        } catch (IOException e) {
            throw new PortMappingException("SSDP search failed: " + e.getMessage(), e);
        }
    }

    /** The LOCATION of an SSDP answer from {@code from}, checked. */
    static URI parseAnswer(byte[] data, int length, InetAddress from) throws MalformedReplyException {
        if (length > MAX_ANSWER) {
            throw new MalformedReplyException("SSDP answer of " + length + " bytes is larger than " + MAX_ANSWER);
        }
        String text = new String(data, 0, length, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\r?\n");
        if (lines.length == 0 || !lines[0].toUpperCase(Locale.ROOT).matches("HTTP/1\\.[01] 200( .*)?")) {
            throw new MalformedReplyException("SSDP answer does not start with an HTTP 200 status line");
        }
        String location = null;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).trim().equalsIgnoreCase("LOCATION")) {
                location = lines[i].substring(colon + 1).trim();
            }
        }
        if (location == null) {
            throw new MalformedReplyException("SSDP answer has no LOCATION header");
        }
        return checkUrl(location, from, "SSDP LOCATION");
    }

    /** An http URL on the literal address {@code host}; anything else is refused. */
    static URI checkUrl(String url, InetAddress host, String what) throws MalformedReplyException {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new MalformedReplyException(what + " is not a URL: " + e.getMessage());
        }
        if (!"http".equalsIgnoreCase(u.getScheme()) || u.getHost() == null) {
            throw new MalformedReplyException(what + " " + url + " is not an http URL with a host");
        }
        if (!u.getHost().equals(host.getHostAddress())) {
            throw new MalformedReplyException(what + " " + url + " points to another host than the device "
                    + host.getHostAddress());
        }
        return u;
    }
}
