package org.p2psip.overlay.link;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receive buffer of a UDP socket that serves many senders. When it is full the kernel drops datagrams, and the
 * sender learns only by its timeout: a stall of tens of milliseconds (a GC pause, a busy core) at tens of thousands
 * of datagrams a second overflows a default-sized buffer and becomes a wave of retransmissions. Sockets ask for
 * {@link #REQUESTED} bytes; Linux grants at most {@code net.core.rmem_max} (208 KiB on many systems), so a smaller
 * grant is logged when the socket is bound, with the fix.
 */
public final class ReceiveBuffers {
    private static final Logger LOG = LoggerFactory.getLogger(ReceiveBuffers.class);
    /** What UDP sockets ask for: 4 MiB, a few hundred milliseconds of a busy superpeer's datagrams. */
    public static final int REQUESTED = 4 << 20;

    private ReceiveBuffers() {
    }

    /**
     * Logs a warning when {@code channel} got a smaller receive buffer than {@link #REQUESTED} ({@code what} names
     * the socket). Linux reports twice the usable size (it counts its bookkeeping), so half of it is compared.
     *
     * @return the usable receive buffer in bytes, or -1 when the channel does not tell
     */
    public static int check(Channel channel, String what) {
        Integer granted = channel.config().getOption(ChannelOption.SO_RCVBUF);
        if (granted == null || granted <= 0) {
            return -1;
        }
        int usable = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")
                ? granted / 2 : granted;
        if (usable < REQUESTED) {
            LOG.warn("the {} socket got a {} KiB receive buffer, not the {} KiB asked for: bursts above that are"
                    + " dropped by the kernel (counted in /proc/net/udp 'drops'). Raise the limit with"
                    + " 'sysctl -w net.core.rmem_max={}' (and net.core.rmem_max in /etc/sysctl.conf)", what,
                    usable / 1024, REQUESTED / 1024, 2 * REQUESTED);
        }
        return usable;
    }
}
