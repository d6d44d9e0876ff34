package org.p2psip.sip.interop;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.p2psip.sip.message.Contact;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipValidator;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transaction.TransactionUser;

/**
 * A tiny UAS on the stack for interop tests: 200 to OPTIONS, MESSAGE and BYE; 200 to REGISTER echoing the bindings
 * with their expiry (no storage: the registrar is the next step); 501 to anything else.
 */
final class TinyUas implements TransactionUser {
    final AtomicInteger answered = new AtomicInteger();
    final AtomicInteger refused = new AtomicInteger();
    final AtomicInteger largestBody = new AtomicInteger();

    @Override
    public void onRequest(ServerTransaction tx, SipRequest r) {
        largestBody.accumulateAndGet(r.bodyLength(), Math::max);
        var rejection = SipValidator.checkForUas(r, Set.of());
        if (rejection.isPresent()) {
            refused.incrementAndGet();
            SipResponse resp = tx.createResponse(rejection.get().status(), rejection.get().reason());
            if (!rejection.get().unsupported().isEmpty()) {
                resp = resp.withHeaders(resp.headers().add(HeaderNames.UNSUPPORTED,
                        String.join(", ", rejection.get().unsupported())));
            }
            tx.respond(resp);
            return;
        }
        switch (r.method()) {
            case SipRequest.OPTIONS, SipRequest.MESSAGE, SipRequest.BYE -> ok(tx, tx.createResponse(200, "OK"));
            case SipRequest.REGISTER -> {
                SipResponse resp = tx.createResponse(200, "OK");
                long defaultExpires = r.expires().orElse(3600);
                List<String> bindings = r.contacts().stream().filter(c -> !c.wildcard())
                        .map(c -> Contact.of(c.address().withParams(c.address().params()
                                .with("expires", Long.toString(c.expires().orElse(defaultExpires))))).toString())
                        .filter(c -> defaultExpires > 0)
                        .toList();
                if (!bindings.isEmpty()) {
                    resp = resp.withHeaders(resp.headers().setAll(HeaderNames.CONTACT, bindings));
                }
                ok(tx, resp);
            }
            default -> {
                refused.incrementAndGet();
                SipResponse resp = tx.createResponse(501, "Not Implemented");
                tx.respond(resp.withHeaders(resp.headers().add(HeaderNames.ALLOW, "OPTIONS, REGISTER, MESSAGE, BYE")));
            }
        }
    }

    private void ok(ServerTransaction tx, SipResponse resp) {
        answered.incrementAndGet();
        tx.respond(resp);
    }
}
