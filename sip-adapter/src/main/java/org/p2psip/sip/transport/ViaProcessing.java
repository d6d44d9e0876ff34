package org.p2psip.sip.transport;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.Headers;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.Via;

/** The Via rules of RFC 3261 §18.2.1/§18.2.2 and RFC 3581 (rport), kept free of I/O so they can be tested alone. */
public final class ViaProcessing {
    private ViaProcessing() {
    }

    /**
     * On receipt of a request: adds {@code received} when the sent-by host is not the source address, and when the
     * client asked for {@code rport}, fills it with the source port and adds {@code received} in any case.
     */
    public static SipRequest stampReceived(SipRequest request, InetSocketAddress source) {
        List<Via> vias = request.vias();
        Via top = vias.get(0);
        String ip = InetAddresses.toAddrString(source.getAddress());
        Via stamped = top;
        boolean sameHost = InetAddresses.isInetAddress(stripBrackets(top.host()))
                && InetAddresses.forString(stripBrackets(top.host())).equals(source.getAddress());
        if (top.hasRport()) {
            stamped = stamped.withParam("received", ip).withParam("rport", Integer.toString(source.getPort()));
        } else if (!sameHost) {
            stamped = stamped.withParam("received", ip);
        }
        if (stamped == top) {
            return request;
        }
        if (ip.indexOf(':') < 0) {
            // an IPv4 literal and digits: the stamped Via's text parses back to it, so the copy keeps it parsed
            return request.withTopVia(stamped);
        }
        List<String> values = request.headers().all(HeaderNames.VIA);
        values.set(0, stamped.toString());
        Headers h = request.headers().setAll(HeaderNames.VIA, values);
        return request.withHeaders(h);
    }

    /**
     * Where to send a response whose top Via is {@code via} over an unreliable transport (§18.2.2, RFC 3581 §4):
     * maddr if present; else the received address, with the rport port if there is one, else the sent-by port;
     * else the sent-by host and port. Host names are resolved (blocking: call off the event loop for names).
     */
    public static InetSocketAddress responseAddress(Via via) throws UnknownHostException {
        if (via.maddr().isPresent()) {
            return new InetSocketAddress(resolve(via.maddr().get()), via.portOrDefault());
        }
        if (via.received().isPresent()) {
            int port = via.rport().isPresent() ? via.rport().getAsInt() : via.portOrDefault();
            return new InetSocketAddress(resolve(via.received().get()), port);
        }
        return new InetSocketAddress(resolve(via.host()), via.portOrDefault());
    }

    /** True for destinations a response or request must never go to: broadcast, multicast, wildcard. */
    public static boolean forbidden(InetAddress a) {
        if (a.isMulticastAddress() || a.isAnyLocalAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        return b.length == 4 && (b[0] & b[1] & b[2] & b[3]) == (byte) 0xff;
    }

    static InetAddress resolve(String host) throws UnknownHostException {
        String h = stripBrackets(host);
        if (InetAddresses.isInetAddress(h)) {
            return InetAddresses.forString(h);
        }
        return InetAddress.getByName(h);
    }

    public static String stripBrackets(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    static boolean isRequest(SipMessage m) {
        return m instanceof SipRequest;
    }
}
