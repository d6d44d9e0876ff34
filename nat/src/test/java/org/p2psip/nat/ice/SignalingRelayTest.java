package org.p2psip.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.overlay.NodeId;

/** The signaling relay and its client over real TCP on 127.0.0.1. */
@Timeout(60)
class SignalingRelayTest {
    static final NodeId A = NodeId.ofName("a");
    static final NodeId B = NodeId.ofName("b");
    static final NodeId C = NodeId.ofName("c");

    @Test
    void requestReachesTheTargetAndTheAnswerComesBack() throws Exception {
        try (SignalingRelay relay = SignalingRelay.start(new InetSocketAddress("127.0.0.1", 0));
                RelaySignaling a = RelaySignaling.connect(A, relay.address(), 5_000);
                RelaySignaling b = RelaySignaling.connect(B, relay.address(), 5_000)) {
            b.serve(r -> CompletableFuture.completedFuture(
                    new AttachMessage.Answer(B, r.from(), r.transaction(), AttachCodecTest.params())));
            awaitConnected(relay, A);
            awaitConnected(relay, B);
            AttachMessage reply = a.attach(new AttachMessage.Request(A, B, 77, AttachCodecTest.params()))
                    .get(10, TimeUnit.SECONDS);
            AttachMessage.Answer answer = assertInstanceOf(AttachMessage.Answer.class, reply);
            assertEquals(77, answer.transaction());
            assertEquals(B, answer.from());
            // the relay counts a frame after writing it, so the answer can arrive just before the count
            long end = System.currentTimeMillis() + 10_000;
            while (relay.forwarded() < 2 && System.currentTimeMillis() < end) {
                Thread.sleep(5);
            }
            assertEquals(2, relay.forwarded());
        }
    }

    @Test
    void trickledCandidatesReachTheirNode() throws Exception {
        try (SignalingRelay relay = SignalingRelay.start(new InetSocketAddress("127.0.0.1", 0));
                RelaySignaling a = RelaySignaling.connect(A, relay.address(), 5_000);
                RelaySignaling b = RelaySignaling.connect(B, relay.address(), 5_000)) {
            CompletableFuture<AttachMessage.Candidates> got = new CompletableFuture<>();
            b.onCandidates(got::complete);
            awaitConnected(relay, A);
            awaitConnected(relay, B);
            assertTrue(a.supportsTrickle());
            a.trickle(new AttachMessage.Candidates(A, B, 77, AttachCodecTest.params().candidates()));
            AttachMessage.Candidates c = got.get(10, TimeUnit.SECONDS);
            assertEquals(77, c.transaction());
            assertEquals(AttachCodecTest.params().candidates(), c.candidates());
        }
    }

    /** The relay reads hellos on its own threads: wait until it has. */
    static void awaitConnected(SignalingRelay relay, NodeId id) throws InterruptedException {
        long end = System.currentTimeMillis() + 10_000;
        while (!relay.isConnected(id)) {
            assertTrue(System.currentTimeMillis() < end, "the relay never registered " + id.shortHex());
            Thread.sleep(10);
        }
    }

    @Test
    void anUnknownTargetIsRefusedWithAReason() throws Exception {
        try (SignalingRelay relay = SignalingRelay.start(new InetSocketAddress("127.0.0.1", 0));
                RelaySignaling a = RelaySignaling.connect(A, relay.address(), 5_000)) {
            AttachMessage reply = a.attach(new AttachMessage.Request(A, C, 5, AttachCodecTest.params()))
                    .get(10, TimeUnit.SECONDS);
            AttachMessage.Refused refused = assertInstanceOf(AttachMessage.Refused.class, reply);
            assertTrue(refused.reason().contains("not connected"), refused.reason());
        }
    }

    @Test
    void forgedSendersAndGarbageAreDroppedAndCounted() throws Exception {
        try (SignalingRelay relay = SignalingRelay.start(new InetSocketAddress("127.0.0.1", 0));
                RelaySignaling b = RelaySignaling.connect(B, relay.address(), 5_000);
                Socket raw = new Socket()) {
            CompletableFuture<AttachMessage.Request> seen = new CompletableFuture<>();
            b.serve(r -> {
                seen.complete(r);
                return new CompletableFuture<>();
            });
            awaitConnected(relay, B);
            raw.connect(relay.address(), 5_000);
            DataOutputStream out = new DataOutputStream(raw.getOutputStream());
            Frames.write(out, C.toBytes());                                      // hello as C
            Frames.write(out, AttachCodec.encode(new AttachMessage.Request(A, B, 1, AttachCodecTest.params()))); // claims A
            Frames.write(out, new byte[] {1, 2, 3});                             // garbage
            Frames.write(out, AttachCodec.encode(new AttachMessage.Request(C, B, 2, AttachCodecTest.params()))); // honest
            AttachMessage.Request r = seen.get(10, TimeUnit.SECONDS);
            assertEquals(C, r.from());
            assertEquals(2, r.transaction());
            assertEquals(2, relay.dropped());
            // an oversized frame length ends that connection only
            out.writeShort(0xFFFF);
            out.flush();
            assertEquals(-1, new DataInputStream(raw.getInputStream()).read());
        }
    }
}
