package org.p2psip.sip.presence;

import java.util.List;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.transaction.TimerService;
import org.p2psip.sip.transport.Target;

/**
 * One presence subscription as its notifier sees it (RFC 6665 §4.2.2): the dialog (Call-ID, our tag, the
 * subscriber's tag, its target and route set, both CSeqs) and the state machine
 * <pre>
 *   (SUBSCRIBE, Expires &gt; 0) → ACTIVE ─ refresh (SUBSCRIBE, Expires &gt; 0) → ACTIVE
 *   ACTIVE ─ unsubscribe (Expires: 0) / expiry timer / NOTIFY refused (481, timeout) → TERMINATED
 * </pre>
 * Every transition of an ACTIVE subscription and every change of the presentity's status sends a NOTIFY.
 * Touched only on the transaction thread.
 */
final class PresenceSubscription {
    enum State { ACTIVE, TERMINATED }

    final String aor;
    final String watcher;
    final String callId;
    final String localTag;
    final Address remote;
    final Address local;
    final SipUri remoteTarget;
    final List<String> routeSet;
    final Target target;
    final String watcherNonce;
    State state = State.ACTIVE;
    long remoteCseq;
    long localCseq;
    long expiresAtMillis;
    /** The status last sent in a NOTIFY, or null before the first. */
    Boolean notifiedOpen;
    TimerService.Cancellable expiryTimer;
    /** Where the SUBSCRIBE came from (its address counts against the per-source limit), null for a fetch. */
    java.net.InetAddress source;
    /** The watcher the record is signed for (user@domain), or null: no watcher record (not authenticated). */
    String signer;
    /** The watcher's signing identity, once loaded. */
    volatile org.p2psip.storage.SigningIdentity signerIdentity;

    PresenceSubscription(String aor, String watcher, String callId, String localTag, Address remote, Address local,
            SipUri remoteTarget, List<String> routeSet, Target target, String watcherNonce, long remoteCseq,
            long expiresAtMillis) {
        this.aor = aor;
        this.watcher = watcher;
        this.callId = callId;
        this.localTag = localTag;
        this.remote = remote;
        this.local = local;
        this.remoteTarget = remoteTarget;
        this.routeSet = List.copyOf(routeSet);
        this.target = target;
        this.watcherNonce = watcherNonce;
        this.remoteCseq = remoteCseq;
        this.expiresAtMillis = expiresAtMillis;
    }

    /** The dialog key of a request in this dialog: Call-ID, our tag (its To tag), the subscriber's (its From tag). */
    static String key(String callId, String localTag, String remoteTag) {
        return callId.strip() + "\n" + localTag + "\n" + remoteTag;
    }

    String key() {
        return key(callId, localTag, remote.tag().orElse(""));
    }

    boolean active() {
        return state == State.ACTIVE;
    }

    /** ACTIVE → TERMINATED; false if it was terminated already. */
    boolean terminate() {
        if (state == State.TERMINATED) {
            return false;
        }
        state = State.TERMINATED;
        if (expiryTimer != null) {
            expiryTimer.cancel();
        }
        return true;
    }

    /** The NOTIFY (§4.2.2) with {@code subscriptionState} and the presentity's PIDF, without a Via. */
    SipRequest notify(String subscriptionState, boolean open, String contact) {
        SipRequest.Builder b = SipRequest.builder(SipRequest.NOTIFY, remoteTarget);
        for (String r : routeSet) {
            b.header(HeaderNames.ROUTE, r);
        }
        return b.header(HeaderNames.MAX_FORWARDS, 70)
                .header(HeaderNames.FROM, local)
                .header(HeaderNames.TO, remote)
                .header(HeaderNames.CALL_ID, callId)
                .header(HeaderNames.CSEQ, (++localCseq) + " " + SipRequest.NOTIFY)
                .header(HeaderNames.CONTACT, contact)
                .header(HeaderNames.EVENT, "presence")
                .header("Subscription-State", subscriptionState)
                .body(Pidf.CONTENT_TYPE, Pidf.document(aor, open))
                .build();
    }
}
