package org.p2psip.nat.portmap;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.time.Duration;

/**
 * One request/response exchange with a router's NAT-PMP/PCP port, with RFC 6886 3.1 retransmissions: the request is
 * resent after the initial timeout, doubling each time, for a number of attempts. Datagrams from other addresses are
 * ignored (the socket is connected to the router); a malformed reply is remembered and reported if no good one
 * follows.
 */
final class UdpExchange {
    static final int MAX_REPLY = 1100;

    /** Decodes one reply; throws for a malformed one. */
    @FunctionalInterface
    interface Decoder<T> {
        T decode(byte[] data, int length) throws MalformedReplyException;
    }

    private UdpExchange() {
    }

    /**
     * Receives one datagram into {@code buf}, waiting at most until {@code deadlineNanos} ({@link System#nanoTime()}
     * time); null when the deadline passes first.
     */
    static DatagramPacket receiveBefore(DatagramSocket socket, long deadlineNanos, byte[] buf) throws IOException {
        long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            return null;
        }
        socket.setSoTimeout((int) left);
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            socket.receive(p);
            return p;
        } catch (SocketTimeoutException e) {
            return null;
        }
    }

    static <T> T exchange(String what, InetAddress local, InetSocketAddress router, byte[] request,
            Duration initialTimeout, int attempts, Decoder<T> decoder) throws PortMappingException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(local, 0))) {
            socket.connect(router);
            byte[] buf = new byte[MAX_REPLY + 1];
            MalformedReplyException malformed = null;
            long timeout = Math.max(1, initialTimeout.toMillis());
            long waited = 0;
            for (int attempt = 0; attempt < attempts; attempt++) {
                socket.send(new DatagramPacket(request, request.length));
                long deadline = System.nanoTime() + timeout * 1_000_000;
                DatagramPacket p;
                while ((p = receiveBefore(socket, deadline, buf)) != null) {
                    if (p.getLength() > MAX_REPLY) {
                        malformed = new MalformedReplyException(what + " reply from " + hostPort(router)
                                + " is larger than " + MAX_REPLY + " bytes");
                        continue;
                    }
                    try {
                        return decoder.decode(p.getData(), p.getLength());
                    } catch (MalformedReplyException e) {
                        malformed = new MalformedReplyException("malformed " + what + " reply from "
                                + hostPort(router) + ": " + e.getMessage(), e);
                    }
                }
                waited += timeout;
                timeout *= 2;
            }
            if (malformed != null) {
                throw malformed;
            }
            throw new PortMappingException("no " + what + " answer from " + hostPort(router) + " after " + attempts
                    + " attempts over " + waited + " ms: the router does not speak " + what
                    + " or filters UDP port " + router.getPort());
        } catch (PortUnreachableException e) {
            throw new PortMappingException("nothing listens on " + hostPort(router) + " (ICMP port unreachable): the"
                    + " router does not speak " + what, e);
        } catch (IOException e) {
            throw new PortMappingException(what + " exchange with " + hostPort(router) + " failed: " + e.getMessage(), e);
        }
    }

    static String hostPort(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }
}
