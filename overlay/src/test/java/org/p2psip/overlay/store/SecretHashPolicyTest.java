package org.p2psip.overlay.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;

class SecretHashPolicyTest {
    static final long NOW = ValueStoreTest.NOW;
    static final NodeId KEY = ValueStoreTest.KEY;

    @Test
    void removeNeedsTheRightSecret() {
        ValueStore s = ValueStoreTest.store(new SecretHashPolicy());
        Bytes secret = Bytes.utf8("s3cret");
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("sip:erin@192.0.2.1"), secret, NOW + 60_000);
        assertEquals(SecretHashPolicy.sha1(secret), v.owner());
        assertEquals(SecretHashPolicy.sha1(v.data()), v.nonce());
        assertEquals(Status.OK, s.put(KEY, v, "a", NOW).status());

        ValueStore.Outcome wrong = s.remove(new StoragePolicy.RemoveRequest(KEY, v.owner(), v.nonce(), Bytes.utf8("guess")), NOW + 60_000, "remover", NOW);
        assertEquals(Status.REFUSED, wrong.status());
        assertTrue(wrong.reason().contains("secret"), wrong.reason());
        assertEquals(List.of(v), s.get(KEY, NOW), "a wrong secret removes nothing");
        // a wrong secret leaves no tombstone either: the writer may still refresh
        DhtValue refreshed = SecretHashPolicy.value(v.data(), secret, NOW + 120_000);
        assertEquals(Status.OK, s.put(KEY, refreshed, "a", NOW).status());

        ValueStore.Outcome right = s.remove(new StoragePolicy.RemoveRequest(KEY, v.owner(), v.nonce(), secret), NOW + 120_000, "remover", NOW);
        assertEquals(Status.OK, right.status());
        assertEquals(List.of(), s.get(KEY, NOW));
    }

    @Test
    void valueWithoutSecretCannotBeRemoved() {
        ValueStore s = ValueStoreTest.store(new SecretHashPolicy());
        DhtValue v = SecretHashPolicy.value(Bytes.utf8("permanent"), Bytes.EMPTY, NOW + 60_000);
        assertTrue(v.owner().isEmpty());
        s.put(KEY, v, "a", NOW);
        ValueStore.Outcome o = s.remove(new StoragePolicy.RemoveRequest(KEY, Bytes.EMPTY, v.nonce(), Bytes.EMPTY), NOW + 60_000, "remover", NOW);
        assertEquals(Status.REFUSED, o.status());
        assertEquals(List.of(v), s.get(KEY, NOW));
    }

    @Test
    void putRules() {
        ValueStore s = ValueStoreTest.store(new SecretHashPolicy());
        DhtValue badNonce = new DhtValue(Bytes.EMPTY, Bytes.utf8("not-a-hash"), Bytes.utf8("data"), NOW + 1000);
        ValueStore.Outcome o = s.put(KEY, badNonce, "a", NOW);
        assertEquals(Status.REFUSED, o.status());
        assertTrue(o.reason().contains("nonce"), o.reason());
        DhtValue badOwner = new DhtValue(Bytes.utf8("short"), SecretHashPolicy.sha1(Bytes.utf8("data")), Bytes.utf8("data"), NOW + 1000);
        assertEquals(Status.REFUSED, s.put(KEY, badOwner, "a", NOW).status());
        assertEquals(0, s.valueCount());
        // nobody can replace another writer's value: a different data is a different value
        DhtValue mine = SecretHashPolicy.value(Bytes.utf8("mine"), Bytes.utf8("x"), NOW + 1000);
        DhtValue theirs = SecretHashPolicy.value(Bytes.utf8("theirs"), Bytes.utf8("x"), NOW + 1000);
        s.put(KEY, mine, "a", NOW);
        s.put(KEY, theirs, "b", NOW);
        assertEquals(2, s.get(KEY, NOW).size());
    }
}
