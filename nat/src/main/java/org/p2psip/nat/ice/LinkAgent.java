package org.p2psip.nat.ice;

import java.util.function.BiConsumer;
import org.ice4j.TransportAddress;
import org.ice4j.ice.Agent;

/**
 * ice4j's {@link Agent}, telling the controlled side when a connectivity check that carries USE-CANDIDATE arrives.
 * ice4j calls this only for requests whose USERNAME and MESSAGE-INTEGRITY matched this agent's ICE credentials
 * (its STUN stack answers others with 401), so the check's source is the peer that received our Attach answer. RFC
 * 8445 7.3.1.5 has the controlled agent select that pair only once its own triggered check on it succeeds, a round
 * trip later; {@link IceLinks} opens the DTLS session over it at once instead, and the DTLS handshake (whose
 * certificate must hash to the peer's node id) proves the rest.
 */
final class LinkAgent extends Agent {
    private volatile BiConsumer<TransportAddress, TransportAddress> nominatedCheck;

    /** Calls {@code listener} with (remote, local) address of each USE-CANDIDATE check this controlled agent answers. */
    void onNominatedCheck(BiConsumer<TransportAddress, TransportAddress> listener) {
        this.nominatedCheck = listener;
    }

    @Override
    protected boolean incomingCheckReceived(TransportAddress remoteAddress, TransportAddress localAddress, long priority,
            String remoteUFrag, String localUFrag, boolean useCandidate) {
        boolean respond = super.incomingCheckReceived(remoteAddress, localAddress, priority, remoteUFrag, localUFrag,
                useCandidate);
        BiConsumer<TransportAddress, TransportAddress> l = nominatedCheck;
        if (respond && useCandidate && !isControlling() && l != null) {
            l.accept(remoteAddress, localAddress);
        }
        return respond;
    }
}
