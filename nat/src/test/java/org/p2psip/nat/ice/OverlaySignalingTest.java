package org.p2psip.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.OverlayNode;
import org.p2psip.overlay.link.UdpLinkLayer;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.overlay.wire.WireCodec;

/**
 * The Attach exchange over overlay routed requests, on three real overlay nodes over loopback UDP (ICE itself needs
 * the NAT lab: ice4j never uses loopback; see {@code OverlayAttachLabTest}). The target's handler answers; answers
 * and requests that do not match, and malformed payloads, are refused and counted.
 */
class OverlaySignalingTest {
    private static final OverlayConfig CFG = OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT)
            .withTimeouts(300, 3);
    private final Random rnd = new Random(4);
    private EventLoopGroup group;
    private final List<OverlayNode> nodes = new ArrayList<>();
    private OverlaySignaling requester;
    private OverlaySignaling target;
    private OverlayNode a;
    private OverlayNode b;

    @BeforeEach
    void start() throws Exception {
        group = UdpLinkLayer.newEventLoopGroup(1);
        for (int i = 0; i < 3; i++) {
            UdpLinkLayer link = UdpLinkLayer.bind(group, new InetSocketAddress("127.0.0.1", 0), 1200).get(10, TimeUnit.SECONDS);
            OverlayNode n = new OverlayNode(NodeId.random(rnd), link, CFG, new SecretHashPolicy(), new WireCodec(),
                    new Random(i)).start();
            n.join(nodes.isEmpty() ? List.of() : List.of(nodes.get(0).contact().address())).get(20, TimeUnit.SECONDS);
            nodes.add(n);
        }
        a = nodes.get(1);
        b = nodes.get(2);
        requester = new OverlaySignaling(a, 5_000);
        target = new OverlaySignaling(b, 5_000);
    }

    @AfterEach
    void stop() {
        nodes.forEach(OverlayNode::close);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private static IceParameters ice(String ufrag) {
        return new IceParameters(ufrag, "passwordpasswordpassword", List.of(
                new IceCandidate(IceCandidate.Type.HOST, "1", 2130706431L, new InetSocketAddress("192.0.2.2", 40000), null)));
    }

    private AttachMessage.Request request() {
        return new AttachMessage.Request(a.id(), b.id(), rnd.nextLong(), ice("reqst"));
    }

    private static Throwable cause(CompletableFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(20, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void anAttachReachesTheTargetsHandlerAndItsAnswerComesBack() throws Exception {
        target.serve(r -> CompletableFuture.completedFuture(new AttachMessage.Answer(b.id(), r.from(), r.transaction(),
                ice("answr"))));
        AttachMessage.Request req = request();
        AttachMessage m = requester.attach(req).get(20, TimeUnit.SECONDS);
        AttachMessage.Answer answer = assertInstanceOf(AttachMessage.Answer.class, m);
        assertEquals(req.transaction(), answer.transaction());
        assertEquals("answr", answer.ice().ufrag());
        assertEquals(1, target.served());
        assertTrue(requester.lastHops() >= 1);

        // a refusal is an answer too
        target.serve(r -> CompletableFuture.completedFuture(new AttachMessage.Refused(b.id(), r.from(), r.transaction(),
                "busy")));
        assertInstanceOf(AttachMessage.Refused.class, requester.attach(request()).get(20, TimeUnit.SECONDS));
    }

    @Test
    void trickledCandidatesAreRoutedToTheTargetAndForgedOnesRefused() throws Exception {
        CompletableFuture<AttachMessage.Candidates> got = new CompletableFuture<>();
        target.onCandidates(got::complete);
        List<IceCandidate> candidates = ice("trick").candidates();
        requester.trickle(new AttachMessage.Candidates(a.id(), b.id(), 5, candidates));
        AttachMessage.Candidates c = got.get(20, TimeUnit.SECONDS);
        assertEquals(5, c.transaction());
        assertEquals(candidates, c.candidates());

        // candidates claiming another sender than the route's origin are refused and counted
        AttachMessage.Candidates forged = new AttachMessage.Candidates(NodeId.random(rnd), b.id(), 6, candidates);
        Throwable e = cause(a.route(b.id(), OverlaySignaling.APP_ID, Bytes.wrap(AttachCodec.encode(forged))));
        assertTrue(e.getMessage().contains("reached node"), e.getMessage());
        assertEquals(1, target.malformed());
    }

    @Test
    void answersThatDoNotMatchTheRequestAreRefused() {
        target.serve(r -> CompletableFuture.completedFuture(new AttachMessage.Answer(b.id(), r.from(), r.transaction() + 1,
                ice("answr"))));
        Throwable e = cause(requester.attach(request()));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
        assertEquals(1, requester.malformed());
    }

    @Test
    void malformedOrMisaddressedRequestsAreRefusedAtTheTarget() {
        target.serve(r -> CompletableFuture.failedFuture(new AssertionError("must not be called")));
        Throwable garbage = cause(a.route(b.id(), OverlaySignaling.APP_ID, Bytes.utf8("not an attach")));
        assertEquals(Status.REFUSED, ((DhtException) garbage).status());
        assertTrue(garbage.getMessage().contains("malformed attach"), garbage.getMessage());

        // a request claiming another sender than the route's origin
        NodeId someoneElse = NodeId.random(rnd);
        AttachMessage.Request forged = new AttachMessage.Request(someoneElse, b.id(), 1, ice("forge"));
        Throwable misaddressed = cause(a.route(b.id(), OverlaySignaling.APP_ID, Bytes.wrap(AttachCodec.encode(forged))));
        assertTrue(misaddressed.getMessage().contains("reached node"), misaddressed.getMessage());
        assertEquals(2, target.malformed());
        assertEquals(0, target.served());

        // nor may this node send an attach in another node's name
        assertInstanceOf(IllegalArgumentException.class, cause(requester.attach(forged)));
    }

    @Test
    void afterCloseTheTargetRefusesAttaches() {
        target.serve(r -> CompletableFuture.failedFuture(new AssertionError("closed")));
        target.close();
        Throwable e = cause(requester.attach(request()));
        assertTrue(e.getMessage().contains("no handler for application 'attach'"), e.getMessage());
    }
}
