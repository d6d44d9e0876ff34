package org.p2psip.node.api;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.Via;
import org.p2psip.sip.transaction.Branch;
import org.p2psip.sip.transaction.ClientTransaction;
import org.p2psip.sip.transaction.TransactionLayer;
import org.p2psip.sip.transport.Target;

/**
 * The UAC of one INVITE or re-INVITE (RFC 3261 §13.2): sends it in a client transaction, ACKs every 2xx, the
 * retransmitted ones included (§13.2.2.4: the same ACK again for a To tag already ACKed; the transaction stays in
 * RFC 6026's Accepted state for 64*T1 to pass them on), and CANCELs it on request (§9.1: only after a provisional
 * response; when none has come yet, at the first one). Runs on the transaction thread.
 */
final class InviteClient implements ClientTransaction.Listener {
    /** What becomes of the INVITE; called on the transaction thread. */
    interface Handler {
        /** A provisional response other than 100. */
        default void provisional(SipResponse r) {
        }

        /**
         * The first 2xx with this To tag: returns the ACK to send (without Via) and where, or null when the 2xx
         * cannot be acknowledged (no Contact).
         */
        Ack answered(SipResponse ok);

        /** A final response of 300 to 699. */
        void refused(SipResponse r);

        /** No final response: timeout (also 64*T1 after a CANCEL that brought no final response), transport error. */
        void failed(Throwable cause);
    }

    /** An ACK of a 2xx, without Via, and its first hop. */
    record Ack(SipRequest request, Target target) {
    }

    private final SipEndpoint ep;
    private final TransactionLayer layer;
    private final SipRequest invite;
    private final Target target;
    private final Handler handler;
    /** The ACK sent for each To tag that answered, sent again for its retransmissions. */
    private final Map<String, SipRequest> acks = new HashMap<>();
    private final Map<String, Target> ackTargets = new HashMap<>();
    private ClientTransaction tx;
    private boolean provisional;
    private boolean finalSeen;
    private boolean cancelWanted;
    private boolean cancelSent;
    private int acksSent;

    InviteClient(SipEndpoint ep, SipRequest invite, Target target, Handler handler) {
        this.ep = ep;
        this.layer = ep.sip.stack().transactions();
        this.invite = invite;
        this.target = target;
        this.handler = handler;
    }

    /** Sends the INVITE with this peer's Via; a send that fails at once is reported through the handler. */
    void start() {
        SipRequest r = invite.withHeaders(invite.headers().prepend(HeaderNames.VIA,
                Via.of(target.transport().name(), ep.ua.host(), ep.ua.port(), Branch.next()).toString()));
        try {
            tx = layer.sendRequest(r, target, this);
        } catch (RuntimeException e) {
            finalSeen = true;
            handler.failed(e);
        }
    }

    @Override
    public void onResponse(ClientTransaction t, SipResponse r) {
        if (r.isProvisional()) {
            if (finalSeen) {
                return;
            }
            provisional = true;
            if (cancelWanted && !cancelSent) {
                sendCancel();
            }
            if (r.status() > 100) {
                handler.provisional(r);
            }
            return;
        }
        if (r.isSuccess()) {
            finalSeen = true;
            String tag = r.to().tag().orElse("");
            SipRequest sent = acks.get(tag);
            if (sent != null) { // a retransmission: our ACK was lost or is still on its way
                sendAck(sent, ackTargets.get(tag));
                return;
            }
            Ack ack = handler.answered(r);
            if (ack != null) {
                SipRequest withVia = ack.request().withHeaders(ack.request().headers().prepend(HeaderNames.VIA,
                        Via.of(ack.target().transport().name(), ep.ua.host(), ep.ua.port(), Branch.next())
                                .toString()));
                acks.put(tag, withVia);
                ackTargets.put(tag, ack.target());
                sendAck(withVia, ack.target());
            }
            return;
        }
        if (!finalSeen) { // the transaction ACKs non-2xx finals itself and absorbs their retransmissions
            finalSeen = true;
            handler.refused(r);
        }
    }

    private void sendAck(SipRequest ack, Target to) {
        acksSent++;
        ep.sip.stack().transport().sendRequest(ack, to);
    }

    @Override
    public void onTimeout(ClientTransaction t) {
        if (!finalSeen) {
            finalSeen = true;
            handler.failed(new TimeoutException(invite.method() + " to " + invite.requestUri()
                    + " got no final response within 64*T1"));
        }
    }

    @Override
    public void onTransportError(ClientTransaction t, Throwable cause) {
        if (!finalSeen) {
            finalSeen = true;
            handler.failed(cause);
        }
    }

    /**
     * Asks for a CANCEL: sent now if a provisional response came, else at the first one; nothing once a final
     * response came.
     *
     * @return false when a final response already came (nothing to cancel)
     */
    boolean cancel() {
        if (finalSeen) {
            return false;
        }
        cancelWanted = true;
        if (provisional && !cancelSent) {
            sendCancel();
        }
        return true;
    }

    /** The CANCEL of §9.1: the INVITE's Request-URI, top Via, Route, From, To, Call-ID and CSeq number. */
    private void sendCancel() {
        cancelSent = true;
        SipRequest inv = tx.request();
        SipRequest.Builder b = SipRequest.builder(SipRequest.CANCEL, inv.requestUri())
                .header(HeaderNames.VIA, inv.headers().first(HeaderNames.VIA).orElseThrow());
        for (String route : inv.headers().all(HeaderNames.ROUTE)) {
            b.header(HeaderNames.ROUTE, route);
        }
        SipRequest cancel = b.header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, inv.headers().first(HeaderNames.FROM).orElseThrow())
                .header(HeaderNames.TO, inv.headers().first(HeaderNames.TO).orElseThrow())
                .header(HeaderNames.CALL_ID, inv.callId())
                .header(HeaderNames.CSEQ, inv.cseq().number() + " " + SipRequest.CANCEL)
                .build();
        layer.sendRequest(cancel, target, (x, resp) -> { });
        // §9.1: no final response to the INVITE within 64*T1 of the CANCEL: the INVITE is over all the same
        layer.schedule(layer.config().timeoutMs(), () -> {
            if (!finalSeen) {
                finalSeen = true;
                handler.failed(new TimeoutException("the cancelled INVITE to " + invite.requestUri()
                        + " got no final response within 64*T1"));
            }
        });
    }

    /** How many ACKs were sent, retransmissions included (for tests and logs). */
    int acksSent() {
        return acksSent;
    }
}
