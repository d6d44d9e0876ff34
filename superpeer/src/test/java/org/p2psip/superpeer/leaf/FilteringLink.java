package org.p2psip.superpeer.leaf;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.p2psip.overlay.link.LinkLayer;
import org.p2psip.overlay.runtime.Scheduler;

/**
 * A real link whose sends {@code drop} selects are dropped and counted, and which may report a smaller datagram limit
 * than the socket under it (as a DTLS link carries one record): loss and MTU for the leaf tests.
 */
final class FilteringLink implements LinkLayer {
    final LinkLayer inner;
    final AtomicInteger dropped = new AtomicInteger();
    private final int maxDatagram;
    private final Predicate<byte[]> drop;

    FilteringLink(LinkLayer inner, int maxDatagram, Predicate<byte[]> drop) {
        this.inner = inner;
        this.maxDatagram = maxDatagram;
        this.drop = drop;
    }

    /** Drops every datagram above {@code mtu} bytes, as a link that cannot carry them. */
    static FilteringLink withMtu(LinkLayer inner, int mtu) {
        return new FilteringLink(inner, mtu, d -> d.length > mtu);
    }

    @Override
    public InetSocketAddress localAddress() {
        return inner.localAddress();
    }

    @Override
    public Scheduler scheduler() {
        return inner.scheduler();
    }

    @Override
    public void setReceiver(Receiver receiver) {
        inner.setReceiver(receiver);
    }

    @Override
    public void send(InetSocketAddress to, byte[] datagram) {
        if (drop.test(datagram)) {
            dropped.incrementAndGet();
            return;
        }
        inner.send(to, datagram);
    }

    @Override
    public int maxDatagramBytes() {
        return maxDatagram;
    }

    @Override
    public void close() {
        inner.close();
    }
}
