package org.p2psip.superpeer.leaf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.superpeer.discovery.Ed25519Keys;
import org.p2psip.superpeer.leaf.LeafCrypto.Ephemeral;
import org.p2psip.superpeer.leaf.LeafCrypto.SessionKeys;
import org.p2psip.superpeer.leaf.LeafMessage.Accept;
import org.p2psip.superpeer.leaf.LeafMessage.Attach;
import org.p2psip.superpeer.leaf.LeafMessage.Detach;
import org.p2psip.superpeer.leaf.LeafMessage.GetCall;
import org.p2psip.superpeer.leaf.LeafMessage.Heartbeat;
import org.p2psip.superpeer.leaf.LeafMessage.HeartbeatAck;
import org.p2psip.superpeer.leaf.LeafMessage.InSession;
import org.p2psip.superpeer.leaf.LeafMessage.ListenCall;
import org.p2psip.superpeer.leaf.LeafMessage.Move;
import org.p2psip.superpeer.leaf.LeafMessage.Notify;
import org.p2psip.superpeer.leaf.LeafMessage.NotifyAck;
import org.p2psip.superpeer.leaf.LeafMessage.PutCall;
import org.p2psip.superpeer.leaf.LeafMessage.Refuse;
import org.p2psip.superpeer.leaf.LeafMessage.RefuseCode;
import org.p2psip.superpeer.leaf.LeafMessage.RemoveCall;
import org.p2psip.superpeer.leaf.LeafMessage.Result;
import org.p2psip.superpeer.leaf.LeafMessage.Unlisten;
import org.p2psip.superpeer.leaf.LeafMessage.Values;

/** The leaf protocol's encoding, signatures, MACs, replay window and hostile input. */
class LeafCodecTest {
    static final Ed25519Keys LEAF = Ed25519Keys.generate();
    static final Ed25519Keys SP = Ed25519Keys.generate();
    static final DhtValue VALUE = new DhtValue(Bytes.utf8("owner"), Bytes.utf8("nonce"), Bytes.utf8("sip:alice@192.0.2.7"),
            1_900_000_000_000L);

    static List<InSession> allSessionMessages() throws Exception {
        NodeId key = NodeId.ofName("sip:alice@example.net");
        return List.of(new Heartbeat(7), new HeartbeatAck(7), new PutCall(1, key, VALUE), new GetCall(2, key),
                new RemoveCall(3, key, Bytes.utf8("o"), Bytes.utf8("n"), Bytes.utf8("secret")), new ListenCall(4, key),
                new Unlisten(4), new Detach(), new Result(5, Status.CAPACITY, 3, 8, "quota"),
                new Values(6, List.of(VALUE, VALUE)), new Values(6, List.of()), new Notify(4, 9, key, VALUE, true), new NotifyAck(9),
                new Move(new InetSocketAddress("192.0.2.9", 5000)), new Move(null),
                new Move(new InetSocketAddress("2001:db8::1", 5001)));
    }

    @Test
    void handshakeRoundTripAndSignatures() throws Exception {
        Ephemeral le = Ephemeral.generate();
        Attach a = new Attach(Bytes.wrap(LEAF.rawPublicKey()), le.publicKey(), SP.id(), 123456789L, true);
        byte[] bytes = LeafCodec.attach(a, LEAF);
        assertEquals(a, LeafCodec.decodeHandshake(bytes, bytes.length));
        Accept acc = new Accept(Bytes.wrap(SP.rawPublicKey()), Ephemeral.generate().publicKey(), le.publicKey(), 42, 500);
        byte[] ab = LeafCodec.accept(acc, SP);
        assertEquals(acc, LeafCodec.decodeHandshake(ab, ab.length));
        Refuse r = new Refuse(Bytes.wrap(SP.rawPublicKey()), le.publicKey(), RefuseCode.CAPACITY, "full");
        byte[] rb = LeafCodec.refuse(r, SP);
        assertEquals(r, LeafCodec.decodeHandshake(rb, rb.length));

        // every single flipped bit of an attach breaks it: the signature covers all of it
        for (int i = 0; i < bytes.length * 8; i += 7) {
            byte[] t = bytes.clone();
            t[i / 8] ^= (byte) (1 << (i % 8));
            assertThrows(MalformedLeafMessageException.class, () -> LeafCodec.decodeHandshake(t, t.length));
        }
        // a leaf key in the attach that did not sign it (an impostor claiming another leaf's id)
        Attach impostor = new Attach(Bytes.wrap(LEAF.rawPublicKey()), le.publicKey(), SP.id(), 1, false);
        byte[] forged = LeafCodec.attach(impostor, Ed25519Keys.generate());
        assertThrows(MalformedLeafMessageException.class, () -> LeafCodec.decodeHandshake(forged, forged.length));
    }

    @Test
    void sessionRoundTripAndMac() throws Exception {
        Ephemeral le = Ephemeral.generate();
        Ephemeral se = Ephemeral.generate();
        SessionKeys leafSide = LeafCrypto.derive(le, se.publicKey(), le.publicKey(), se.publicKey());
        SessionKeys spSide = LeafCrypto.derive(se, le.publicKey(), le.publicKey(), se.publicKey());
        assertArrayEquals(leafSide.leafToSuperpeer(), spSide.leafToSuperpeer());
        assertArrayEquals(leafSide.superpeerToLeaf(), spSide.superpeerToLeaf());
        assertFalse(Arrays.equals(leafSide.leafToSuperpeer(), leafSide.superpeerToLeaf()));
        long counter = 0;
        for (InSession m : allSessionMessages()) {
            byte[] b = LeafCodec.seal(99, counter, m, leafSide.leafToSuperpeer());
            assertEquals(99, LeafCodec.sessionId(b, b.length));
            LeafCodec.Sealed s = LeafCodec.open(b, b.length, spSide.leafToSuperpeer());
            assertEquals(m, s.message());
            assertEquals(counter++, s.counter());
            // the other direction's key does not open it: a reflected message is refused
            assertThrows(MalformedLeafMessageException.class, () -> LeafCodec.open(b, b.length, spSide.superpeerToLeaf()));
            byte[] t = b.clone();
            t[t.length / 2] ^= 1;
            assertThrows(MalformedLeafMessageException.class, () -> LeafCodec.open(t, t.length, spSide.leafToSuperpeer()));
        }
    }

    @Test
    void oversizedValuesAreRefusedAtEncoding() {
        DhtValue big = new DhtValue(Bytes.EMPTY, Bytes.EMPTY, Bytes.wrap(new byte[DhtValue.MAX_DATA_BYTES]), 1);
        assertThrows(IllegalArgumentException.class,
                () -> LeafCodec.seal(1, 1, new Values(1, List.of(big, big)), new byte[32]));
    }

    @Test
    void replayWindow() {
        ReplayWindow w = new ReplayWindow();
        assertTrue(w.accept(0));
        assertFalse(w.accept(0));
        assertTrue(w.accept(5));
        assertTrue(w.accept(3)); // reordered, within the window
        assertFalse(w.accept(3));
        assertTrue(w.accept(200));
        assertFalse(w.accept(100)); // too old
        assertTrue(w.accept(199));
        assertFalse(w.accept(-1));
    }

    /** Random and mutated input: nothing but MalformedLeafMessageException escapes, nothing forged passes. */
    @Test
    void fuzz() throws Exception {
        Random rnd = new Random(5);
        byte[] key = new byte[32];
        List<byte[]> seeds = new ArrayList<>();
        for (InSession m : allSessionMessages()) {
            seeds.add(LeafCodec.seal(1, 1, m, key));
        }
        Ephemeral le = Ephemeral.generate();
        seeds.add(LeafCodec.attach(new Attach(Bytes.wrap(LEAF.rawPublicKey()), le.publicKey(), SP.id(), 1, false), LEAF));
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] d;
            if (i % 3 == 0) {
                d = new byte[rnd.nextInt(300)];
                rnd.nextBytes(d);
                if (d.length >= 4 && rnd.nextBoolean()) {
                    d[0] = 'P';
                    d[1] = 'L';
                    d[2] = 1;
                }
            } else {
                byte[] s = seeds.get(rnd.nextInt(seeds.size()));
                d = Arrays.copyOf(s, Math.max(0, s.length + rnd.nextInt(9) - 4));
                for (int k = rnd.nextInt(3); k >= 0; k--) {
                    if (d.length > 0) {
                        d[rnd.nextInt(d.length)] = (byte) rnd.nextInt();
                    }
                }
            }
            try {
                if (LeafCodec.isLeafDatagram(d, d.length) && LeafCodec.isHandshake(d)) {
                    LeafCodec.decodeHandshake(d, d.length);
                } else {
                    LeafCodec.sessionId(d, d.length);
                    LeafCodec.open(d, d.length, key);
                }
                accepted++;
            } catch (MalformedLeafMessageException expected) {
                // counted drop
            }
        }
        // only the few mutations that hit nothing (e.g. a byte overwritten with its own value) survive
        assertTrue(accepted < 2_000, "accepted " + accepted);
    }
}
