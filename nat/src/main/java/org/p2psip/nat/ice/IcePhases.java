package org.p2psip.nat.ice;

/**
 * When the steps of one ICE link setup ended, in milliseconds from its start (the requester's {@code connect}, or the
 * arrival of the request at the target); -1 when a step did not happen.
 *
 * @param attachSentMillis  the Attach request (requester) or answer (target) was handed to signaling: local
 *                          gathering before it (with trickle: host candidates only)
 * @param answerMillis      the requester had the answer (the Attach round trip); at the target equal to
 *                          {@code attachSentMillis}
 * @param gatheredMillis    every local candidate was found (STUN and TURN included), -1 if gathering outlasted the
 *                          setup
 * @param firstValidMillis  the first candidate pair was validated by a connectivity check
 * @param completedMillis   ICE completed (a pair nominated and selected)
 * @param trickled          candidates this side trickled after its Attach message
 * @param prepared          the agent was prepared ahead: its server-reflexive and port-mapped candidates were
 *                          gathered before the setup, so the Attach message (or answer) carried them
 */
public record IcePhases(long attachSentMillis, long answerMillis, long gatheredMillis, long firstValidMillis,
        long completedMillis, int trickled, boolean prepared) {

    @Override
    public String toString() {
        return "attach_sent=" + attachSentMillis + " answer=" + answerMillis + " gathered=" + gatheredMillis
                + " first_valid=" + firstValidMillis + " completed=" + completedMillis + " trickled=" + trickled
                + " prepared=" + prepared;
    }
}
