package org.p2psip.overlay.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Route;
import org.p2psip.overlay.wire.Message.RouteReply;
import org.p2psip.overlay.wire.Message.Status;

/** ROUTE and ROUTE_REPLY (class ids 32 and 33): every bound is checked when decoding, each with its own message. */
class RouteCodecTest {
    private final WireCodec codec = new WireCodec();
    private final Random rnd = new Random(32);
    private final NodeId target = NodeId.random(rnd);

    private Route route(int hopLimit, int timeout, int viaSize, String app, int payloadBytes) {
        List<NodeId> via = new ArrayList<>();
        for (int i = 0; i < viaSize; i++) {
            via.add(NodeId.random(rnd));
        }
        return new Route(target, 7, true, hopLimit, timeout, via, app, Bytes.wrap(new byte[payloadBytes]));
    }

    private String refused(Message m) {
        byte[] b = codec.encode(new Frame(m instanceof Message.Reply, 1, NodeId.random(rnd), m));
        return assertThrows(MalformedFrameException.class, () -> codec.decode(b, b.length)).getMessage();
    }

    @Test
    void hopLimitsOutsideTheRangeAreRefused() {
        assertTrue(refused(route(0, 1000, 1, "attach", 1)).contains("hop limit"));
        assertTrue(refused(route(WireCodec.MAX_HOPS + 1, 1000, 1, "attach", 1)).contains("hop limit"));
        assertTrue(refused(route(-1, 1000, 1, "attach", 1)).contains("hop limit"));
    }

    @Test
    void viaListsMustHoldOneToMaxHopsNodes() {
        assertTrue(refused(route(4, 1000, 0, "attach", 1)).contains("via"));
        assertTrue(refused(route(4, 1000, WireCodec.MAX_HOPS + 1, "attach", 1)).contains("via"));
    }

    @Test
    void timeoutsOutsideTheRangeAreRefused() {
        assertTrue(refused(route(4, 0, 1, "attach", 1)).contains("timeout"));
        assertTrue(refused(route(4, WireCodec.MAX_ROUTE_TIMEOUT_MILLIS + 1, 1, "attach", 1)).contains("timeout"));
    }

    @Test
    void applicationIdsAreShortAndPlain() {
        assertTrue(refused(route(4, 1000, 1, "", 1)).contains("application id"));
        assertTrue(refused(route(4, 1000, 1, "has space", 1)).contains("application id"));
        assertTrue(refused(route(4, 1000, 1, "\u00e9t\u00e9", 1)).contains("application id"));
        assertTrue(refused(route(4, 1000, 1, "a".repeat(WireCodec.MAX_APP_ID_CHARS + 1), 1)).contains("exceeds"));
    }

    @Test
    void oversizedPayloadsAreRefusedBothWays() {
        assertTrue(refused(route(4, 1000, 1, "attach", WireCodec.MAX_ROUTED_PAYLOAD_BYTES + 1)).contains("exceeds"));
        assertTrue(refused(new RouteReply(Status.OK, "", target, 1,
                Bytes.wrap(new byte[WireCodec.MAX_ROUTED_PAYLOAD_BYTES + 1]))).contains("exceeds"));
        assertTrue(refused(new RouteReply(Status.OK, "", target, WireCodec.MAX_HOPS + 1, Bytes.EMPTY)).contains("hop count"));
    }

    @Test
    void aViaCountLargerThanTheFrameAllocatesNothing() {
        byte[] d = HostileInputTest.frame(false, o -> {
            HostileInputTest.tag(o, 32);
            HostileInputTest.id(o);
            o.writeLong(1);
            o.writeByte(1);
            o.writeVarInt(4, true);
            o.writeVarInt(1000, true);
            o.writeVarInt(WireCodec.MAX_HOPS, true); // 32 ids claimed, none present
        });
        String msg = assertThrows(MalformedFrameException.class, () -> codec.decode(d, d.length)).getMessage();
        assertTrue(msg.contains("longer than the frame"), msg);
    }

    @Test
    void unknownFlagsAreRefused() {
        byte[] d = HostileInputTest.frame(false, o -> {
            HostileInputTest.tag(o, 32);
            HostileInputTest.id(o);
            o.writeLong(1);
            o.writeByte(6);
        });
        assertThrows(MalformedFrameException.class, () -> codec.decode(d, d.length));
    }

    @Test
    void theLargestValidRouteFitsInAFrame() throws Exception {
        Route r = route(WireCodec.MAX_HOPS, WireCodec.MAX_ROUTE_TIMEOUT_MILLIS, WireCodec.MAX_HOPS,
                "a".repeat(WireCodec.MAX_APP_ID_CHARS), WireCodec.MAX_ROUTED_PAYLOAD_BYTES);
        byte[] b = codec.encode(new Frame(false, 1, target, r));
        assertTrue(b.length < Frame.MAX_FRAME_BYTES);
        assertEquals(r, codec.decode(b, b.length).message());
    }
}
