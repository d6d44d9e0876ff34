package org.p2psip.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RefusalTest {
    @Test
    void faultCodesAreDistinctAndStable() {
        Set<Integer> seen = new HashSet<>();
        for (Refusal r : Refusal.values()) {
            assertTrue(seen.add(r.faultCode()), r + " reuses " + r.faultCode());
        }
        // published in the READMEs: must never change
        assertEquals(1009, Refusal.BAD_SIGNATURE.faultCode());
        assertEquals(1014, Refusal.NOT_ENTITLED.faultCode());
        assertEquals(1015, Refusal.CERT_EXPIRED.faultCode());
        assertEquals(1016, Refusal.CERT_UNTRUSTED.faultCode());
        assertEquals(1017, Refusal.REPLAY.faultCode());
    }

    @Test
    void theCodeIsFoundInTheOverlaysReasons() {
        assertEquals(Optional.of(Refusal.CERT_UNTRUSTED), Refusal.find(
                "no replica accepted the operation: REFUSED: CERT_UNTRUSTED: no PKIX path; REFUSED: CERT_UNTRUSTED: no PKIX path"));
        assertEquals(Optional.of(Refusal.REPLAY), Refusal.find("REPLAY: this value was removed"));
        assertEquals(Optional.of(Refusal.NOT_ENTITLED), Refusal.find("x: AGAIN: busy; REFUSED: NOT_ENTITLED"));
        assertEquals(Optional.empty(), Refusal.find("no replica accepted the operation: CAPACITY: node store is full"));
        assertEquals(Optional.empty(), Refusal.find("REPLAYED: not a code"));
        assertEquals(Optional.empty(), Refusal.find(null));
    }
}
