package org.p2psip.sip.transaction;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.transport.SipSender;
import org.p2psip.sip.transport.Source;
import org.p2psip.sip.transport.Target;

/** A transport that records what is sent, with the virtual time of each send. */
final class CaptureSender implements SipSender {
    record Sent(long at, SipMessage message) {
        String what() {
            return message instanceof SipRequest r ? r.method() : Integer.toString(((SipResponse) message).status());
        }
    }

    final ManualTimerService clock;
    final List<Sent> sent = new ArrayList<>();
    Throwable failWith;

    CaptureSender(ManualTimerService clock) {
        this.clock = clock;
    }

    @Override
    public CompletableFuture<Void> sendRequest(SipRequest request, Target target) {
        return record(request);
    }

    @Override
    public CompletableFuture<Void> sendResponse(SipResponse response, Source requestSource) {
        return record(response);
    }

    private CompletableFuture<Void> record(SipMessage m) {
        sent.add(new Sent(clock.nowMillis(), m));
        return failWith == null ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(failWith);
    }

    /** Send times of the messages that {@code what} selects ("INVITE", "486", ...). */
    List<Long> times(String what) {
        return sent.stream().filter(s -> s.what().equals(what)).map(Sent::at).toList();
    }

    List<Sent> matching(Predicate<Sent> p) {
        return sent.stream().filter(p).toList();
    }

    SipMessage last() {
        return sent.get(sent.size() - 1).message();
    }
}
