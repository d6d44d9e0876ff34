package org.p2psip.sip.transaction;

import java.util.Locale;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.Via;

/**
 * Transaction matching keys (RFC 3261 §17.1.3 and §17.2.3).
 *
 * <p>Server side, for a top Via branch with the magic cookie: branch, sent-by and method, where ACK counts as
 * INVITE (so an ACK for a non-2xx finds its INVITE transaction) and CANCEL is its own method (so a CANCEL has its own
 * transaction and finds the INVITE through {@link #inviteOf}). Without the cookie (RFC 2543 peers, or RFC 4475's
 * badbranch whose branch is the bare cookie) the key falls back to Call-ID, CSeq number, From tag, top Via (sent-by
 * and branch) and method class; this leaves out the Request-URI and To tag of §17.2.3's RFC 2543 rule so that the ACK,
 * whose To carries our tag, matches too.
 *
 * <p>Client side: the branch of the response's top Via and its CSeq method.
 */
public final class TransactionKeys {
    private TransactionKeys() {
    }

    public static String server(SipRequest r) {
        String method = r.isMethod(SipRequest.ACK) ? SipRequest.INVITE : r.method();
        return server(r, method);
    }

    /** The key of the INVITE server transaction a CANCEL refers to. */
    public static String inviteOf(SipRequest cancel) {
        return server(cancel, SipRequest.INVITE);
    }

    private static String server(SipRequest r, String method) {
        Via top = r.topVia();
        String sentBy = top.sentBy().toLowerCase(Locale.ROOT);
        if (top.hasRfc3261Branch()) {
            return "3261|" + top.branch().get() + "|" + sentBy + "|" + method;
        }
        return "2543|" + r.callId().strip() + "|" + r.cseq().number() + "|" + r.from().tag().orElse("") + "|" + sentBy
                + "|" + top.branch().orElse("") + "|" + method;
    }

    public static String client(SipRequest r) {
        return r.topVia().branch().orElseThrow() + "|" + r.cseq().method();
    }

    /** The client key of a response, or null when its top Via has no branch. */
    public static String client(SipResponse s) {
        return s.topVia().branch().map(b -> b + "|" + s.cseq().method()).orElse(null);
    }
}
