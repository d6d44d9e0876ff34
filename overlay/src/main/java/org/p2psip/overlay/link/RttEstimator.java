package org.p2psip.overlay.link;

/**
 * Round-trip time of one peer, for the RPC engine's retransmission timeout, as RFC 6298 computes it: a smoothed
 * RTT and its mean deviation from samples of requests answered at their first transmission (Karn's rule: the
 * answer to a retransmitted request could be the answer to either copy), and a back-off that the engine raises
 * when answers come only after a retransmission and that the next sample clears. Used on the node's thread only.
 */
public final class RttEstimator {
    private double srtt = -1;
    private double rttvar;
    private long backedOff;
    private long samples;

    /** Adds the round trip of a request answered at its first transmission; clears any back-off. */
    public void sample(long rttMillis) {
        double r = Math.max(0, rttMillis);
        if (srtt < 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = 0.75 * rttvar + 0.25 * Math.abs(srtt - r);
            srtt = 0.875 * srtt + 0.125 * r;
        }
        backedOff = 0;
        samples++;
    }

    /** Whether any sample was taken. */
    public boolean measured() {
        return srtt >= 0;
    }

    /** The smoothed round trip in ms, or -1 before the first sample. */
    public double srttMillis() {
        return srtt;
    }

    public double rttvarMillis() {
        return rttvar;
    }

    public long samples() {
        return samples;
    }

    /** The back-off in force (ms), 0 if none. */
    public long backedOffMillis() {
        return backedOff;
    }

    /** Raises the back-off to at least {@code millis} (the engine passes twice the timeout that proved short). */
    public void backOff(long millis) {
        backedOff = Math.max(backedOff, millis);
    }
}
