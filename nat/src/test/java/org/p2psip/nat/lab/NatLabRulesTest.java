package org.p2psip.nat.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lab's address discipline and rule sets, without root. */
class NatLabRulesTest {
    @Test
    void onlyDocumentationAddresses() throws Exception {
        for (String ok : List.of("192.0.2.1", "198.51.100.254", "203.0.113.101")) {
            assertTrue(NatLab.isDocumentationAddress(InetAddress.getByName(ok)), ok);
            NatLab.address(ok);
        }
        for (String bad : List.of("10.0.0.1", "192.168.1.1", "172.16.0.1", "192.0.3.1", "203.0.114.1", "8.8.8.8",
                "127.0.0.1", "2001:db8::1")) {
            assertFalse(NatLab.isDocumentationAddress(InetAddress.getByName(bad)), bad);
            assertThrows(IllegalArgumentException.class, () -> NatLab.address(bad));
        }
    }

    @Test
    void ruleSetsPerBehaviour() throws Exception {
        InetAddress host = InetAddress.getByName("192.0.2.2");
        String full = String.join(" | ", NatLab.natRules(NatType.FULL_CONE, host, 30).stream()
                .map(r -> String.join(" ", r)).toList());
        assertTrue(full.contains("-t nat -A PREROUTING -i wan0 -p udp -j DNAT --to-destination 192.0.2.2"), full);
        String ar = String.join(" | ", NatLab.natRules(NatType.ADDRESS_RESTRICTED, host, 30).stream()
                .map(r -> String.join(" ", r)).toList());
        assertTrue(ar.contains("--rdest --set") && ar.contains("--rsource --rcheck --seconds 30"), ar);
        String sym = String.join(" | ", NatLab.natRules(NatType.SYMMETRIC, host, 30).stream()
                .map(r -> String.join(" ", r)).toList());
        assertTrue(sym.contains("MASQUERADE --random-fully"), sym);
        String pr = String.join(" | ", NatLab.natRules(NatType.PORT_RESTRICTED, host, 30).stream()
                .map(r -> String.join(" ", r)).toList());
        assertFalse(pr.contains("-j DNAT") || pr.contains("random"), pr);
        List<List<String>> upnp = NatLab.natRules(NatType.UPNP, host, 30);
        List<List<String>> forwarding = NatLab.natRules(NatType.PORT_RESTRICTED, host, 30).stream()
                .filter(r -> !r.contains("INPUT")).toList();
        assertEquals(forwarding, upnp, "a UPnP site forwards as a port-restricted one until miniupnpd adds a mapping");
        assertFalse(upnp.stream().anyMatch(r -> r.contains("INPUT")),
                "miniupnpd's STUN test needs its change-request answers, so a UPnP router does not drop them in INPUT");
        for (NatType t : NatType.values()) {
            List<List<String>> rules = NatLab.natRules(t, host, 30);
            assertEquals(List.of("-A", "FORWARD", "-i", "wan0", "-o", "lan0", "-j", "DROP"), rules.get(2),
                    "inbound is dropped unless conntrack or DNAT admits it");
        }
    }
}
