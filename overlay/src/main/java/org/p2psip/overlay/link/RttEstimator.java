package org.p2psip.overlay.link;

/**
 * Round-trip time of one peer, for the RPC engine's retransmission timeout, as RFC 6298 computes it: a smoothed
 * RTT and its mean deviation from samples of requests answered at their first transmission (Karn's rule: the
 * answer to a retransmitted request could be the answer to either copy), and a back-off that the engine raises
 * when answers come only after a retransmission twice in a row (see {@link #answeredLateAgain()}). The back-off is cleared by a sample of a request sent after it
 * was raised: with many requests in flight, the quick answers to requests sent before a slow spell would
 * otherwise clear it at once, and Karn's rule keeps the slow answers out of the estimate, which would stay low.
 * Used on the node's thread only.
 */
public final class RttEstimator {
    private double srtt = -1;
    private double rttvar;
    private long backedOff;
    private long backedOffAt;
    private long samples;
    private int lateStreak;

    /**
     * Adds the round trip of a request answered at its first transmission; clears the back-off if that request
     * was sent after it was raised.
     */
    public void sample(long rttMillis, long sentAtMillis) {
        double r = Math.max(0, rttMillis);
        if (srtt < 0) {
            srtt = r;
            rttvar = r / 2;
        } else {
            rttvar = 0.75 * rttvar + 0.25 * Math.abs(srtt - r);
            srtt = 0.875 * srtt + 0.125 * r;
        }
        if (sentAtMillis >= backedOffAt) {
            backedOff = 0;
        }
        samples++;
        lateStreak = 0;
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

    /**
     * Notes a request answered only after it was retransmitted; true when the previous answered request of this
     * peer was too (no sample in between). Once is as likely a lost datagram as a slow peer; twice in a row is
     * rare on a lossy path (0.16 % at 2 % loss) and the rule for a slow one.
     */
    public boolean answeredLateAgain() {
        return ++lateStreak >= 2;
    }

    /** Raises the back-off to at least {@code millis} (the engine passes twice the timeout that proved short). */
    public void backOff(long millis, long nowMillis) {
        backedOff = Math.max(backedOff, millis);
        backedOffAt = nowMillis;
    }
}
