package org.p2psip.overlay.wire;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.HeldValues;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Message.Ack;
import org.p2psip.overlay.wire.Message.FindNode;
import org.p2psip.overlay.wire.Message.Get;
import org.p2psip.overlay.wire.Message.GetReply;
import org.p2psip.overlay.wire.Message.Listen;
import org.p2psip.overlay.wire.Message.Nodes;
import org.p2psip.overlay.wire.Message.Notify;
import org.p2psip.overlay.wire.Message.Ping;
import org.p2psip.overlay.wire.Message.Pong;
import org.p2psip.overlay.wire.Message.Put;
import org.p2psip.overlay.wire.Message.PutReply;
import org.p2psip.overlay.wire.Message.Remove;
import org.p2psip.overlay.wire.Message.Status;

/** Valid frames of every message type, for round trips and as seeds for hostile variants. */
public final class WireSamples {
    private WireSamples() { }

    public static InetSocketAddress v6(int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName("2001:db8::42"), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    public static List<Contact> contacts(Random rnd, int n) {
        List<Contact> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            InetSocketAddress a = i % 3 == 2 ? v6(1 + rnd.nextInt(65535)) : new InetSocketAddress("127.0.0.1", 1 + rnd.nextInt(65535));
            out.add(new Contact(NodeId.random(rnd), a));
        }
        return out;
    }

    public static DhtValue value(Random rnd, int dataBytes) {
        byte[] d = new byte[dataBytes];
        rnd.nextBytes(d);
        return SecretHashPolicy.value(Bytes.wrap(d), rnd.nextBoolean() ? Bytes.EMPTY : Bytes.utf8("secret" + rnd.nextInt()),
                1_800_000_000_000L + rnd.nextInt(1_000_000));
    }

    /** A value with the largest owner, nonce and data the overlay allows. */
    public static DhtValue largest(Random rnd) {
        byte[] o = new byte[DhtValue.MAX_ID_BYTES];
        byte[] n = new byte[DhtValue.MAX_ID_BYTES];
        byte[] d = new byte[DhtValue.MAX_DATA_BYTES];
        rnd.nextBytes(o);
        rnd.nextBytes(n);
        rnd.nextBytes(d);
        return new DhtValue(Bytes.wrap(o), Bytes.wrap(n), Bytes.wrap(d), Long.MAX_VALUE);
    }

    /** A complete summary of {@code n} values with owners and nonces of every size up to the largest. */
    static HeldValues held(Random rnd, int n) {
        List<HeldValues.Held> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] o = new byte[i % (DhtValue.MAX_ID_BYTES + 1)];
            byte[] nonce = new byte[DhtValue.MAX_ID_BYTES - i % (DhtValue.MAX_ID_BYTES + 1)];
            rnd.nextBytes(o);
            rnd.nextBytes(nonce);
            out.add(new HeldValues.Held(Bytes.wrap(o), Bytes.wrap(nonce), i == 0 ? Long.MIN_VALUE : rnd.nextLong()));
        }
        return new HeldValues(out, true);
    }

    /** One or more messages of every type, with edge cases. */
    public static List<Message> messages(Random rnd) {
        List<Message> m = new ArrayList<>();
        NodeId key = NodeId.random(rnd);
        m.add(new Ping());
        m.add(new Pong(new InetSocketAddress("127.0.0.1", 4000)));
        m.add(new Pong(v6(65535)));
        m.add(new FindNode(key));
        m.add(new Nodes(List.of()));
        m.add(new Nodes(contacts(rnd, 20)));
        m.add(new Nodes(contacts(rnd, WireCodec.MAX_CONTACTS)));
        m.add(new Get(key, 0, Bytes.EMPTY));
        m.add(new Get(key, 17, Bytes.utf8("placemark")));
        m.add(new GetReply(contacts(rnd, 8), List.of(value(rnd, 10), value(rnd, 300)), Bytes.utf8("next")));
        m.add(new GetReply(List.of(), List.of(), Bytes.EMPTY));
        m.add(new Put(key, value(rnd, 100), false));
        m.add(new Put(key, value(rnd, 0), true));
        m.add(new Put(key, largest(rnd), false));
        m.add(new Put(key, value(rnd, 100), false, true));
        m.add(new PutReply(Status.OK, "", contacts(rnd, 20)));
        m.add(new PutReply(Status.CAPACITY, "store full", List.of()));
        m.add(new PutReply(Status.OK, "", contacts(rnd, 20), held(rnd, 3)));
        m.add(new PutReply(Status.OK, "", List.of(), held(rnd, HeldValues.MAX_ENTRIES)));
        m.add(new Message.PutAck(Status.OK, "", HeldValues.UNKNOWN));
        m.add(new Message.PutAck(Status.OK, "", held(rnd, 1)));
        m.add(new Message.PutAck(Status.OK, "", new HeldValues(List.of(), true)));
        m.add(new Message.PutAck(Status.REFUSED, "bad signature", HeldValues.UNKNOWN));
        m.add(new Remove(key, Bytes.utf8("owner"), Bytes.utf8("nonce"), Bytes.utf8("the secret"), 1_800_000_000_000L));
        m.add(new Remove(key, Bytes.EMPTY, Bytes.EMPTY, Bytes.EMPTY, -1));
        m.add(new Listen(key, rnd.nextLong(), 120));
        m.add(new Notify(key, rnd.nextLong(), List.of(value(rnd, 50)), List.of()));
        m.add(new Notify(key, rnd.nextLong(), List.of(), List.of(value(rnd, 50), value(rnd, 60))));
        m.add(new Message.Route(key, rnd.nextLong(), true, 16, 10_000, List.of(NodeId.random(rnd)), "attach",
                Bytes.utf8("an attach")));
        List<NodeId> longVia = new ArrayList<>();
        for (int i = 0; i < WireCodec.MAX_HOPS; i++) {
            longVia.add(NodeId.random(rnd));
        }
        m.add(new Message.Route(key, rnd.nextLong(), false, WireCodec.MAX_HOPS, WireCodec.MAX_ROUTE_TIMEOUT_MILLIS,
                List.copyOf(longVia), "sip.v1_x-" + "y".repeat(WireCodec.MAX_APP_ID_CHARS - 9),
                Bytes.wrap(new byte[WireCodec.MAX_ROUTED_PAYLOAD_BYTES])));
        m.add(new Message.RouteReply(Status.OK, "", NodeId.random(rnd), 3, Bytes.utf8("answer")));
        m.add(new Message.RouteReply(Status.REFUSED, "no handler", NodeId.random(rnd), 0, Bytes.EMPTY));
        for (Status s : Status.values()) {
            m.add(new Ack(s, s.ok() ? "" : "reason for " + s + " \u00e9\u4e2d"));
        }
        return m;
    }

    public static List<Frame> frames(Random rnd) {
        List<Frame> out = new ArrayList<>();
        for (Message msg : messages(rnd)) {
            out.add(new Frame(msg instanceof Message.Reply, rnd.nextLong(), NodeId.random(rnd), msg));
        }
        return out;
    }
}
