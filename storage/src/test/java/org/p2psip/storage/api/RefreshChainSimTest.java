package org.p2psip.storage.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.PutResult;
import org.p2psip.storage.ChainCache;
import org.p2psip.storage.Contact;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.RefreshChain;
import org.p2psip.storage.RefreshTrailer;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SignedValues;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;

/** Refresh chains through 12 real OverlayNodes (simulated network): replicas hash, readers cache, removal holds. */
class RefreshChainSimTest {
    private static final int N = 200;
    private static final int D = 60;

    @Test
    void refreshesReachEveryReplicaWithoutSignatureChecksAndReadBackWithTheNewExpiry() throws Exception {
        SimOverlay sim = new SimOverlay(12, 11);
        ResourceName aor = ResourceName.sip("carol@example.net");
        NodeId key = aor.key();
        SigningIdentity carol = SimOverlay.identity("carol@example.net");
        RefreshChain chain = RefreshChain.create(N, D, new SecureRandom());
        Instant e0 = Instant.ofEpochMilli(sim.net.now()).plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        DhtValue signed = signedWithChain(aor, e0, "sip:carol@192.0.2.9:5060", chain, carol);
        DraftDht writer = sim.dht(2);
        assertTrue(sim.await(writer.putAuth(key, signed)).stored() > 0);
        List<Integer> replicas = holders(sim, key);
        assertTrue(replicas.size() >= 2, "replicas: " + replicas);
        long verifications = totalVerifications(sim);

        PutResult p = sim.await(writer.extend(key, signed, 10, chain.token(10)));
        assertEquals(replicas.size(), p.stored(), p.toString());
        for (int i : replicas) {
            DhtValue held = sim.await(sim.nodes.get(i).localValues(key)).get(0);
            assertEquals(e0.toEpochMilli() + 10L * D * 1000, held.expiresAtMillis(), "replica " + i);
            assertEquals(10, RefreshTrailer.parse(held.data().unsafeArray()).j());
        }
        assertEquals(verifications, totalVerifications(sim), "no replica verified a signature for the refresh");

        // a reader verifies the signed part once and hashes the chain from the anchor, then only the gap
        ChainCache cache = new ChainCache();
        DraftDht reader = new DraftDht(sim.nodes.get(7), sim.net::now, DraftDht.Options.defaults(),
                DraftDht.ReadCheck.signatureOnly(null, cache));
        List<DraftDht.SignedValue> got = sim.await(reader.get(aor));
        assertEquals(1, got.size());
        assertEquals(e0.toEpochMilli() + 10L * D * 1000, got.get(0).value().expiresAtMillis());
        assertEquals(10, cache.hashes());
        assertTrue(sim.await(writer.extend(key, signed, 15, chain.token(15))).stored() > 0);
        got = sim.await(reader.get(aor));
        assertEquals(e0.toEpochMilli() + 15L * D * 1000, got.get(0).value().expiresAtMillis());
        assertEquals(15, cache.hashes(), "the warm reader hashed only the 5 new links");

        // replays and forgeries are refused by every replica, which keep token 15
        CompletionException older = assertThrows(CompletionException.class,
                () -> sim.await(writer.extend(key, signed, 12, chain.token(12))));
        assertTrue(older.getCause().getMessage().contains("REPLAY"), older.getCause().getMessage());
        CompletionException forged = assertThrows(CompletionException.class,
                () -> sim.await(writer.extend(key, signed, 16, new byte[32])));
        assertTrue(forged.getCause().getMessage().contains("BAD_SIGNATURE"), forged.getCause().getMessage());
        for (int i : replicas) {
            assertEquals(15, RefreshTrailer.parse(sim.await(sim.nodes.get(i).localValues(key)).get(0).data().unsafeArray()).j());
        }
        assertEquals(verifications, totalVerifications(sim));

        // the writer removes with a stale copy (token 10): the proof digests the signed part
        DhtValue stale = SignedValues.refresh(signed, 10, chain.token(10));
        PutResult removed = sim.await(writer.removeAuth(RecordKey.of("k", aor), stale, carol));
        assertTrue(removed.stored() >= replicas.size(), removed.toString());
        assertEquals(0, sim.await(reader.get(aor)).size());
        assertTrue(holders(sim, key).isEmpty());
    }

    @Test
    void replicasHoldingAnotherSignedVersionGetTheFullValueAfterRefusingTheCompactOne() throws Exception {
        SimOverlay sim = new SimOverlay(12, 12);
        ResourceName aor = ResourceName.sip("dave@example.net");
        NodeId key = aor.key();
        SigningIdentity dave = SimOverlay.identity("dave@example.net");
        Instant e0 = Instant.ofEpochMilli(sim.net.now()).plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        DraftDht writer = sim.dht(3);
        // version A is stored; the writer then signs version B under the same nonce (another chain) and refreshes B
        DhtValue a = signedWithChain(aor, e0, "sip:dave@192.0.2.10:5060", RefreshChain.create(N, D, new SecureRandom()), dave);
        assertTrue(sim.await(writer.putAuth(key, a)).stored() > 0);
        List<Integer> replicas = holders(sim, key);
        RefreshChain chainB = RefreshChain.create(N, D, new SecureRandom());
        DhtValue b = signedWithChain(aor, e0, "sip:dave@192.0.2.11:5060", chainB, dave);
        DhtValue b3 = SignedValues.refresh(b, 3, chainB.token(3));
        PutResult p = sim.await(writer.putRefresh(key, b3, org.p2psip.storage.CompactRefresh.digest(b.data().unsafeArray())));
        assertEquals(replicas.size(), p.stored(), "every replica refused the compact form (NOT_HELD) and took the full"
                + " value: " + p);
        for (int i : replicas) {
            assertEquals(b3, sim.await(sim.nodes.get(i).localValues(key)).get(0), "replica " + i);
        }
        // now held: the next refresh of B is compact everywhere and costs no signature check
        long verifications = totalVerifications(sim);
        assertEquals(replicas.size(), sim.await(writer.extend(key, b, 4, chainB.token(4))).stored());
        for (int i : replicas) {
            assertEquals(SignedValues.refresh(b, 4, chainB.token(4)), sim.await(sim.nodes.get(i).localValues(key)).get(0));
        }
        assertEquals(verifications, totalVerifications(sim));
    }

    private static DhtValue signedWithChain(ResourceName aor, Instant e0, String contact, RefreshChain chain,
            SigningIdentity id) throws Exception {
        DhtRecord r = DhtRecord.of(aor, e0, "desk", new ValueContent.Contacts(List.of(Contact.of(contact))));
        return SignedValues.put(new DhtRecord(r.id(), r.key(), r.value().withChain(chain.params())), id);
    }

    private static List<Integer> holders(SimOverlay sim, NodeId key) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < sim.nodes.size(); i++) {
            OverlayNode n = sim.nodes.get(i);
            if (!sim.await(n.localValues(key)).isEmpty()) {
                out.add(i);
            }
        }
        return out;
    }

    private static long totalVerifications(SimOverlay sim) {
        return sim.policies.stream().mapToLong(SignedRecordPolicy::fullVerifications).sum();
    }
}
