package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.HeldValues;
import org.p2psip.overlay.PutResult;

/**
 * When a put's summaries confirm an AOR's view, and when they do not (the registrar then reads): values added,
 * removed, refreshed elsewhere, expired, a replica that refused or gave no summary; and the bound on AORs.
 */
class BindingViewsTest {
    static final String AOR = "sip:erin@p2p.test";
    final long now = 1_800_000_000_000L;

    static ContactBinding binding(String host, long expires) {
        return new ContactBinding(AOR, "<sip:erin@" + host + ">", null, "sip:127.0.0.1:5070;lr", List.of(), expires);
    }

    static DhtValue value(String nonce, long expires) {
        return new DhtValue(Bytes.utf8("owner"), Bytes.utf8(nonce), Bytes.utf8("record"), expires);
    }

    static HeldValues held(DhtValue... values) {
        return HeldValues.of(List.of(values));
    }

    /** A view holding A (this peer's, expiring in 600 s) and B (another device's, expiring in 5 s). */
    BindingViews twoDevices() {
        BindingViews v = new BindingViews(10);
        v.read(AOR, Map.of(
                value("a", now + 600_000).id(), new BindingViews.Entry(now + 600_000, List.of(binding("a", now + 600_000))),
                value("b", now + 5_000).id(), new BindingViews.Entry(now + 5_000, List.of(binding("b", now + 5_000)))));
        return v;
    }

    @Test
    void aRefreshConfirmedByEveryReplicaListsTheView() {
        BindingViews v = twoDevices();
        DhtValue a = value("a", now + 601_000);
        ContactBinding ab = binding("a", now + 601_000);
        HeldValues h = held(a, value("b", now + 5_000));
        Optional<List<ContactBinding>> listed = v.confirm(AOR, a, new PutResult(3, 3, List.of(), List.of(h, h, h)), ab, now);
        assertEquals(Optional.of(List.of(ab, binding("b", now + 5_000))), listed);

        // 10 s later B expired: the replicas no longer hold it, nor does the view count it
        DhtValue a2 = value("a", now + 612_000);
        ContactBinding ab2 = binding("a", now + 612_000);
        HeldValues h2 = held(a2);
        assertEquals(Optional.of(List.of(ab2)), v.confirm(AOR, a2, new PutResult(2, 2, List.of(), List.of(h2, h2)), ab2,
                now + 10_000));
    }

    @Test
    void anythingElseMeansRead() {
        DhtValue a = value("a", now + 601_000);
        ContactBinding ab = binding("a", now + 601_000);
        DhtValue b = value("b", now + 5_000);
        HeldValues ok = held(a, b);
        // a value the view lacks (another device), one it has that is gone (removed), B refreshed elsewhere
        for (HeldValues h : List.of(held(a, b, value("c", now + 9_000)), held(a), held(a, value("b", now + 65_000)),
                held(value("a", now + 700_000), b), HeldValues.UNKNOWN)) {
            assertEquals(Optional.empty(), twoDevices().confirm(AOR, a,
                    new PutResult(2, 2, List.of(), List.of(ok, h)), ab, now), h.toString());
        }
        // a replica refused, or stored without a summary
        assertEquals(Optional.empty(), twoDevices().confirm(AOR, a, new PutResult(1, 2, List.of("REFUSED: x"), List.of(ok)), ab, now));
        assertEquals(Optional.empty(), twoDevices().confirm(AOR, a, new PutResult(2, 2, List.of(), List.of(ok)), ab, now));
        assertEquals(Optional.empty(), twoDevices().confirm(AOR, a, new PutResult(2, 2, List.of()), ab, now));
        // no view of the AOR
        assertEquals(Optional.empty(), new BindingViews(10).confirm(AOR, a, new PutResult(1, 1, List.of(), List.of(ok)), ab, now));
    }

    @Test
    void theViewsAreBounded() {
        BindingViews v = new BindingViews(100);
        for (int i = 0; i < 1_000; i++) {
            v.read("sip:u" + i + "@p2p.test", Map.of());
        }
        assertEquals(100, v.size());
        assertTrue(v.confirm("sip:u0@p2p.test", value("a", now + 1_000),
                new PutResult(1, 1, List.of(), List.of(held(value("a", now + 1_000)))), null, now).isEmpty(),
                "the oldest AORs were forgotten");
        assertTrue(v.confirm("sip:u999@p2p.test", value("a", now + 1_000),
                new PutResult(1, 1, List.of(), List.of(held(value("a", now + 1_000)))), null, now).isPresent());
    }
}
