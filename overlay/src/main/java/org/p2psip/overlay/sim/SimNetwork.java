package org.p2psip.overlay.sim;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.runtime.Scheduler;

/**
 * A simulated network in virtual time: every node's link layer and scheduler share one event queue,
 * run on the caller's thread. Datagrams arrive after a random latency or are lost; no sockets are used,
 * so tens of thousands of real {@code OverlayNode}s fit in one process and run faster than real time.
 * Addresses come from the documentation ranges and are never put on a real wire.
 */
public final class SimNetwork {
    /** Virtual time starts here (epoch ms), so absolute expiry times look real. */
    public static final long EPOCH = 1_800_000_000_000L;

    private final PriorityQueue<Event> queue = new PriorityQueue<>();
    private final Map<InetSocketAddress, SimLink> nodes = new HashMap<>();
    private final Random random;
    private final long minLatencyMillis;
    private final long maxLatencyMillis;
    private final double loss;
    private final SimScheduler scheduler = new SimScheduler();
    private long now = EPOCH;
    private long seq;
    private long delivered;
    private long lost;
    private int nextHost = 1;

    /**
     * @param loss fraction of datagrams dropped, 0..1
     */
    public SimNetwork(long seed, long minLatencyMillis, long maxLatencyMillis, double loss) {
        this.random = new Random(seed);
        this.minLatencyMillis = minLatencyMillis;
        this.maxLatencyMillis = maxLatencyMillis;
        this.loss = loss;
    }

    private record Event(long time, long seq, Runnable task) implements Comparable<Event> {
        @Override
        public int compareTo(Event o) {
            return time != o.time ? Long.compare(time, o.time) : Long.compare(seq, o.seq);
        }
    }

    private final class SimScheduler implements Scheduler {
        @Override
        public long nowMillis() {
            return now;
        }

        @Override
        public void execute(Runnable task) {
            queue.add(new Event(now, seq++, task));
        }

        @Override
        public Cancellable schedule(Runnable task, long delayMillis) {
            boolean[] cancelled = new boolean[1];
            queue.add(new Event(now + Math.max(0, delayMillis), seq++, () -> {
                if (!cancelled[0]) {
                    task.run();
                }
            }));
            return () -> cancelled[0] = true;
        }

        @Override
        public boolean inThread() {
            return true;
        }
    }

    /** A simulated node's link layer. */
    private final class SimLink implements LinkLayer {
        final InetSocketAddress address;
        Receiver receiver = (f, d, l) -> { };
        boolean up = true;

        SimLink(InetSocketAddress address) {
            this.address = address;
        }

        @Override
        public InetSocketAddress localAddress() {
            return address;
        }

        @Override
        public Scheduler scheduler() {
            return scheduler;
        }

        @Override
        public void setReceiver(Receiver receiver) {
            this.receiver = receiver;
        }

        @Override
        public void send(InetSocketAddress to, byte[] datagram) {
            if (!up) {
                return;
            }
            if (loss > 0 && random.nextDouble() < loss) {
                lost++;
                return;
            }
            long latency = minLatencyMillis + (maxLatencyMillis > minLatencyMillis
                    ? (long) (random.nextDouble() * (maxLatencyMillis - minLatencyMillis)) : 0);
            queue.add(new Event(now + latency, seq++, () -> {
                SimLink dest = nodes.get(to);
                if (dest != null && dest.up) {
                    delivered++;
                    dest.receiver.onDatagram(address, datagram, datagram.length);
                } else {
                    lost++;
                }
            }));
        }

        @Override
        public int maxDatagramBytes() {
            return 1200;
        }

        @Override
        public void close() {
            up = false;
            nodes.remove(address);
        }
    }

    /** A new link layer at a fresh simulated address. */
    public LinkLayer newLink() {
        int host = nextHost++;
        try {
            // Only documentation addresses, and they exist only inside this simulation: 3 x 254 hosts, many ports each.
            byte[][] nets = {{(byte) 192, 0, 2}, {(byte) 198, 51, 100}, {(byte) 203, 0, 113}};
            byte[] net = nets[host % 3];
            InetAddress ip = InetAddress.getByAddress(new byte[] {net[0], net[1], net[2], (byte) (1 + (host / 3) % 254)});
            InetSocketAddress a = new InetSocketAddress(ip, 4000 + host / 762);
            SimLink l = new SimLink(a);
            nodes.put(a, l);
            return l;
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public long now() {
        return now;
    }

    /** Runs events until virtual time reaches {@code time}. */
    public void runUntil(long time) {
        while (!queue.isEmpty() && queue.peek().time() <= time) {
            Event e = queue.poll();
            now = e.time();
            e.task().run();
        }
        now = Math.max(now, time);
    }

    /** Runs for {@code millis} of virtual time. */
    public void runFor(long millis) {
        runUntil(now + millis);
    }

    /** Runs events until {@code f} completes or {@code maxMillis} of virtual time pass; returns its value or throws. */
    public <T> T await(CompletableFuture<T> f, long maxMillis) {
        long deadline = now + maxMillis;
        while (!f.isDone() && !queue.isEmpty() && queue.peek().time() <= deadline) {
            Event e = queue.poll();
            now = e.time();
            e.task().run();
        }
        if (!f.isDone()) {
            throw new IllegalStateException("operation did not finish within " + maxMillis + " ms of virtual time");
        }
        return f.join();
    }

    public long delivered() {
        return delivered;
    }

    public long lost() {
        return lost;
    }

    public int size() {
        return nodes.size();
    }
}
