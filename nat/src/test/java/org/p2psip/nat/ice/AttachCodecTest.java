package org.p2psip.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.NodeId;

/** The Attach codec: round trips, and hostile input that must give an {@link AttachFormatException}, nothing else. */
class AttachCodecTest {
    static final NodeId A = NodeId.ofName("a");
    static final NodeId B = NodeId.ofName("b");

    static IceParameters params() {
        return new IceParameters("ufrag1", "passwordpasswordpassword", List.of(
                new IceCandidate(IceCandidate.Type.HOST, "1", 2130706431L, new InetSocketAddress("192.0.2.2", 40000), null),
                new IceCandidate(IceCandidate.Type.SERVER_REFLEXIVE, "2", 1694498815L,
                        new InetSocketAddress("203.0.113.101", 40000), new InetSocketAddress("192.0.2.2", 40000)),
                new IceCandidate(IceCandidate.Type.RELAYED, "3", 16777215L, new InetSocketAddress("2001:db8::1", 50000),
                        new InetSocketAddress("203.0.113.101", 40000))));
    }

    @Test
    void roundTrips() throws Exception {
        List<AttachMessage> all = List.of(new AttachMessage.Request(A, B, 42, params()),
                new AttachMessage.Answer(B, A, -7, params()),
                new AttachMessage.Refused(B, A, 1, "busy: try again later – ünïcode"),
                new AttachMessage.Candidates(A, B, 42, params().candidates()));
        for (AttachMessage m : all) {
            assertEquals(m, AttachCodec.decode(AttachCodec.encode(m)));
        }
    }

    @Test
    void longReasonsAreCutAtACharacterBoundary() throws Exception {
        String reason = "é".repeat(400);
        AttachMessage.Refused r = (AttachMessage.Refused) AttachCodec.decode(AttachCodec.encode(
                new AttachMessage.Refused(A, B, 1, reason)));
        assertEquals(256, r.reason().length());
    }

    @Test
    void malformedInputIsRefusedWithTheRule() {
        byte[] good = AttachCodec.encode(new AttachMessage.Request(A, B, 42, params()));
        assertRefused(new byte[0], "truncated");
        assertRefused(Arrays.copyOf(good, good.length - 1), "truncated");
        assertRefused(Arrays.copyOf(good, good.length + 1), "trailing");
        byte[] magic = good.clone();
        magic[0] = 'X';
        assertRefused(magic, "magic");
        byte[] version = good.clone();
        version[2] = 9;
        assertRefused(version, "version");
        byte[] kind = good.clone();
        kind[3] = 7;
        assertRefused(kind, "kind");
        // ufrag length byte right after the 52-byte header: a ufrag of 2 characters breaks the ICE rule
        byte[] shortUfrag = good.clone();
        shortUfrag[52] = 2;
        assertThrows(AttachFormatException.class, () -> AttachCodec.decode(shortUfrag));
        assertRefused(new byte[AttachCodec.MAX_BYTES + 1], "exceeds");
    }

    @Test
    void tooManyCandidatesAreRefused() {
        List<IceCandidate> many = new ArrayList<>();
        for (int i = 0; i < IceParameters.MAX_CANDIDATES + 1; i++) {
            many.add(new IceCandidate(IceCandidate.Type.HOST, "f" + i, 100, new InetSocketAddress("192.0.2.2", 1000 + i), null));
        }
        assertThrows(IllegalArgumentException.class, () -> new IceParameters("ufrag1", "passwordpasswordpassword", many));
    }

    @Test
    void trickledCandidatesNeedOneToThirtyTwo() {
        byte[] good = AttachCodec.encode(new AttachMessage.Candidates(A, B, 42, params().candidates()));
        byte[] none = Arrays.copyOf(good, 53);
        none[52] = 0; // the candidate count right after the header
        assertRefused(none, "candidate count 0");
        assertThrows(IllegalArgumentException.class, () -> new AttachMessage.Candidates(A, B, 1, List.of()));
    }

    @Test
    void randomMutationsNeverEscapeAsAnythingElse() {
        mutate(AttachCodec.encode(new AttachMessage.Answer(B, A, 9, params())));
        mutate(AttachCodec.encode(new AttachMessage.Candidates(B, A, 9, params().candidates())));
    }

    private static void mutate(byte[] good) {
        Random rnd = new Random(4);
        int refused = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] b = rnd.nextInt(4) == 0 ? Arrays.copyOf(good, rnd.nextInt(good.length + 8)) : good.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips && b.length > 0; f++) {
                b[rnd.nextInt(b.length)] = (byte) rnd.nextInt(256);
            }
            try {
                AttachCodec.decode(b);
            } catch (AttachFormatException e) {
                refused++;
            } catch (RuntimeException e) {
                fail("input " + i + " escaped as " + e, e);
            }
        }
        assertTrue(refused > 1_000, "most mutations break a rule: " + refused);
    }

    private static void assertRefused(byte[] b, String fragment) {
        AttachFormatException e = assertThrows(AttachFormatException.class, () -> AttachCodec.decode(b));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
