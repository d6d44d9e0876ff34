package org.p2psip.overlay.sim;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.HashMap;
import java.util.Map;
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

    private final EventQueue queue = new EventQueue();
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

    /** A task due at a virtual time; {@code seq} keeps events of the same time in the order they were queued. */
    private static final class Event {
        final long time;
        final long seq;
        final Runnable task;
        /** Position in the heap, -1 once it left the queue (ran or was cancelled). */
        int index = -1;

        Event(long time, long seq, Runnable task) {
            this.time = time;
            this.seq = seq;
            this.task = task;
        }

        boolean before(Event o) {
            return time != o.time ? time < o.time : seq < o.seq;
        }

        long time() {
            return time;
        }

        Runnable task() {
            return task;
        }
    }

    /**
     * A binary min-heap of events that knows each event's position, so a cancelled timer leaves the queue
     * at once (O(log n)) instead of waiting there until it is due. Nearly every RPC timeout and lookup
     * stall timer is cancelled, and at 10,000 nodes leaving them in made the queue several times larger.
     */
    private static final class EventQueue {
        private Event[] heap = new Event[1 << 12];
        private int size;

        boolean isEmpty() {
            return size == 0;
        }

        Event peek() {
            return heap[0];
        }

        void add(Event e) {
            if (size == heap.length) {
                heap = java.util.Arrays.copyOf(heap, size * 2);
            }
            e.index = size;
            heap[size++] = e;
            up(e.index);
        }

        Event poll() {
            Event top = heap[0];
            removeAt(0);
            return top;
        }

        void remove(Event e) {
            if (e.index >= 0) {
                removeAt(e.index);
            }
        }

        private void removeAt(int i) {
            Event gone = heap[i];
            gone.index = -1;
            Event last = heap[--size];
            heap[size] = null;
            if (i < size) {
                heap[i] = last;
                last.index = i;
                up(i);
                down(last.index);
            }
        }

        private void up(int i) {
            Event e = heap[i];
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                Event p = heap[parent];
                if (!e.before(p)) {
                    break;
                }
                heap[i] = p;
                p.index = i;
                i = parent;
            }
            heap[i] = e;
            e.index = i;
        }

        private void down(int i) {
            Event e = heap[i];
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                Event c = heap[child];
                int right = child + 1;
                if (right < size && heap[right].before(c)) {
                    child = right;
                    c = heap[child];
                }
                if (!c.before(e)) {
                    break;
                }
                heap[i] = c;
                c.index = i;
                i = child;
            }
            heap[i] = e;
            e.index = i;
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
            Event e = new Event(now + Math.max(0, delayMillis), seq++, task);
            queue.add(e);
            return () -> queue.remove(e);
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
            // InetSocketAddress hashes to (IPv4 address as an int) + port: ports 256 apart keep every simulated
            // address's hash distinct (ports 1 apart made a dozen addresses share each hash, and every map
            // keyed by address, in every node, slowed down as the network grew)
            InetSocketAddress a = new InetSocketAddress(ip, 1024 + 256 * (host / 762));
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
