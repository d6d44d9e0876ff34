package org.p2psip.overlay.lookup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.NodeId;

/** Once the closest set stops improving, a lookup asks the rest of it at once, and reports settled nodes early. */
class IterativeLookupConvergeTest {
    private static final NodeId TARGET = NodeId.fromHex("0000000000000000000000000000000000000000");

    private static Contact contact(int rank) {
        // distance to the target grows with rank
        return new Contact(NodeId.fromHex(String.format("%02x", rank + 1) + "00000000000000000000000000000000000000"),
                new InetSocketAddress("192.0.2.1", 1000 + rank));
    }

    @Test
    void afterAnAnswerThatBringsNothingCloserTheRestIsAskedAtOnce() {
        List<Contact> seeds = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            seeds.add(contact(i));
        }
        Contact self = new Contact(NodeId.fromHex("f000000000000000000000000000000000000000"), new InetSocketAddress("192.0.2.2", 1));
        Map<Contact, CompletableFuture<List<Contact>>> asked = new LinkedHashMap<>();
        List<Contact> settled = new ArrayList<>();
        IterativeLookup l = new IterativeLookup(TARGET, 8, 3, self, false, c -> {
            CompletableFuture<List<Contact>> f = new CompletableFuture<>();
            asked.put(c, f);
            return f;
        }).onSettled(settled::add);
        CompletableFuture<List<Contact>> result = l.run(seeds);
        assertEquals(seeds.subList(0, 3), List.copyOf(asked.keySet()), "alpha = 3 queries first");
        assertFalse(l.converged());
        // the closest answers with nodes the lookup knows already: nothing new among the 8 closest
        asked.get(seeds.get(0)).complete(List.of(seeds.get(1), seeds.get(9)));
        assertTrue(l.converged());
        assertEquals(seeds.subList(0, 8), List.copyOf(asked.keySet()), "the other 5 of the 8 closest asked at once");
        assertEquals(List.of(seeds.get(0)), settled, "the answered closest node is reported settled");
        for (int i = 1; i < 8; i++) {
            asked.get(seeds.get(i)).complete(List.of());
        }
        assertEquals(seeds.subList(0, 8), result.join());
        assertEquals(8, l.queries());
        // all but the last answer, which ends the lookup (the caller handles the result itself)
        assertEquals(seeds.subList(0, 7), settled, "nodes of the result reported before the end");
    }

    @Test
    void answersThatBringCloserNodesKeepAlphaAtATime() {
        Contact self = new Contact(NodeId.fromHex("f000000000000000000000000000000000000000"), new InetSocketAddress("192.0.2.2", 1));
        List<Contact> far = List.of(contact(100), contact(101), contact(102), contact(103));
        Map<Contact, CompletableFuture<List<Contact>>> asked = new LinkedHashMap<>();
        IterativeLookup l = new IterativeLookup(TARGET, 2, 1, self, false, c -> {
            CompletableFuture<List<Contact>> f = new CompletableFuture<>();
            asked.put(c, f);
            return f;
        });
        l.run(far);
        // each answer brings a closer node: still one query at a time
        asked.get(far.get(0)).complete(List.of(contact(50)));
        assertFalse(l.converged());
        assertEquals(2, asked.size());
        asked.get(contact(50)).complete(List.of(contact(10)));
        assertFalse(l.converged());
        assertEquals(3, asked.size());
    }

    private static final Contact SELF = new Contact(NodeId.fromHex("f000000000000000000000000000000000000000"),
            new InetSocketAddress("192.0.2.2", 1));
    private static final List<Contact> FAR_SEEDS = List.of(contact(100), contact(101), contact(102));

    private static List<Contact> ranks(int from, int to) {
        List<Contact> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(contact(i));
        }
        return out;
    }

    @Test
    void convergingAsksAllOfTheClosestWhileQueriesToFartherNodesAreStillOut() {
        Map<Contact, CompletableFuture<List<Contact>>> asked = new LinkedHashMap<>();
        IterativeLookup l = new IterativeLookup(TARGET, 8, 3, SELF, false, c -> {
            CompletableFuture<List<Contact>> f = new CompletableFuture<>();
            asked.put(c, f);
            return f;
        });
        CompletableFuture<List<Contact>> result = l.run(FAR_SEEDS);
        // a far seed brings the 8 closest: new nodes, so one query goes into its free slot
        asked.get(FAR_SEEDS.get(0)).complete(ranks(0, 8));
        assertFalse(l.converged());
        assertTrue(asked.containsKey(contact(0)));
        // the closest brings nothing new: the other 7 go at once, though 2 queries to far seeds are still out
        asked.get(contact(0)).complete(ranks(1, 8));
        assertTrue(l.converged());
        assertTrue(asked.keySet().containsAll(ranks(0, 8)), "asked: " + asked.keySet());
        for (int i = 1; i < 8; i++) {
            asked.get(contact(i)).complete(List.of());
        }
        assertEquals(ranks(0, 8), result.join(), "the 8 closest answered: done, without waiting for the far seeds");
    }

    @Test
    void aClosestSetAsTightAsExpectedConvergesAtOnce() {
        // contact(7) shares 4 leading bits with the target, the far seeds 1
        for (int bits : new int[] {4, 5, -1}) {
            Map<Contact, CompletableFuture<List<Contact>>> asked = new LinkedHashMap<>();
            IterativeLookup l = new IterativeLookup(TARGET, 8, 3, SELF, false, c -> {
                CompletableFuture<List<Contact>> f = new CompletableFuture<>();
                asked.put(c, f);
                return f;
            }).convergeWithin(bits);
            CompletableFuture<List<Contact>> result = l.run(FAR_SEEDS);
            asked.get(FAR_SEEDS.get(0)).complete(ranks(0, 8));
            if (bits == 4) {
                assertTrue(l.converged(), "the 8 closest share 4 bits with the target: converged");
                assertTrue(asked.keySet().containsAll(ranks(0, 8)), "all 8 asked after one answer: " + asked.keySet());
            } else {
                assertFalse(l.converged(), "expected " + bits + " bits: not yet");
                assertEquals(4, asked.size(), "alpha at a time: " + asked.keySet());
            }
            // the result is the same either way
            for (int round = 0; round < 3 && !result.isDone(); round++) {
                for (Map.Entry<Contact, CompletableFuture<List<Contact>>> e : List.copyOf(asked.entrySet())) {
                    e.getValue().complete(List.of());
                }
            }
            assertEquals(ranks(0, 8), result.join());
        }
    }
}
