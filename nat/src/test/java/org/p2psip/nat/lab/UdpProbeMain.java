package org.p2psip.nat.lab;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A child-JVM helper of {@link NatLabDelayTest}, run inside a lab namespace.
 *
 * <ul>
 *   <li>{@code echo IP PORT}: echoes every datagram to its sender; prints {@code ready} once bound.
 *   <li>{@code probe IP PORT PINGS BURST}: {@code PINGS} round trips one at a time (prints {@code rtt_min_ms} and
 *       {@code rtt_max_ms}), then {@code BURST} numbered datagrams back to back; prints {@code received}, and
 *       {@code in_order} (whether the echoes came back in the order sent).
 * </ul>
 */
public final class UdpProbeMain {
    private UdpProbeMain() {
    }

    public static void main(String[] args) throws Exception {
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getByName(args[1]), Integer.parseInt(args[2]));
        if (args[0].equals("echo")) {
            try (DatagramSocket s = new DatagramSocket(peer)) {
                System.out.println("ready");
                System.out.flush();
                byte[] buf = new byte[2048];
                while (true) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    s.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                }
            }
        }
        int pings = Integer.parseInt(args[3]);
        int burst = Integer.parseInt(args[4]);
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(5000);
            long min = Long.MAX_VALUE;
            long max = 0;
            byte[] buf = new byte[2048];
            for (int i = 0; i < pings; i++) {
                byte[] ping = ByteBuffer.allocate(8).putInt(-1).putInt(i).array();
                long t0 = System.nanoTime();
                s.send(new DatagramPacket(ping, ping.length, peer));
                while (true) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p); // a timeout fails the probe (exit status 1)
                    ByteBuffer b = ByteBuffer.wrap(p.getData(), 0, p.getLength());
                    if (p.getLength() == 8 && b.getInt() == -1 && b.getInt() == i) {
                        break;
                    }
                }
                long us = (System.nanoTime() - t0) / 1000;
                min = Math.min(min, us);
                max = Math.max(max, us);
            }
            System.out.printf("rtt_min_ms=%.3f%nrtt_max_ms=%.3f%n", min / 1000.0, max / 1000.0);
            for (int i = 0; i < burst; i++) {
                byte[] d = ByteBuffer.allocate(200).putInt(1).putInt(i).array();
                s.send(new DatagramPacket(d, d.length, peer));
            }
            List<Integer> got = new ArrayList<>();
            s.setSoTimeout(3000);
            try {
                while (got.size() < burst) {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    s.receive(p);
                    ByteBuffer b = ByteBuffer.wrap(p.getData(), 0, p.getLength());
                    if (p.getLength() == 200 && b.getInt() == 1) {
                        got.add(b.getInt());
                    }
                }
            } catch (SocketTimeoutException e) {
                // counted below: fewer received than sent
            }
            boolean inOrder = true;
            for (int i = 1; i < got.size(); i++) {
                inOrder &= got.get(i) > got.get(i - 1);
            }
            System.out.println("received=" + got.size());
            System.out.println("in_order=" + inOrder);
        }
    }
}
