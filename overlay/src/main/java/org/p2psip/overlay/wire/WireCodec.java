package org.p2psip.overlay.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Contact;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.HeldValues;
import org.p2psip.overlay.NodeId;
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
import org.p2psip.overlay.wire.Message.PutAck;
import org.p2psip.overlay.wire.Message.PutReply;
import org.p2psip.overlay.wire.Message.Remove;
import org.p2psip.overlay.wire.Message.Route;
import org.p2psip.overlay.wire.Message.RouteReply;
import org.p2psip.overlay.wire.Message.Status;

/**
 * Encodes and decodes {@link Frame}s. Bodies use Kryo with registration required and fixed class ids;
 * every message has its own serializer that bounds each declared length before allocating, because
 * Kryo 5.6 itself trusts declared array sizes. Thread-safe.
 */
public final class WireCodec {
    /** Most contacts in one NODES or GET reply. */
    public static final int MAX_CONTACTS = 64;
    /** Most values in one reply or notification. */
    public static final int MAX_VALUES = 4096;
    public static final int MAX_REASON_CHARS = 256;
    /** Largest GET placemark: the store's encoding of a value id, two length bytes, owner and nonce. */
    public static final int MAX_PLACEMARK_BYTES = 2 + 2 * DhtValue.MAX_ID_BYTES;
    /** Most hops a routed request takes, and most entries in its via list. */
    public static final int MAX_HOPS = 32;
    /** Largest payload (request or answer) a routed request carries: room for a SIP request or an Attach. */
    public static final int MAX_ROUTED_PAYLOAD_BYTES = 32 * 1024;
    /** Longest application id of a routed request (ASCII letters, digits, '.', '-', '_'). */
    public static final int MAX_APP_ID_CHARS = 32;
    /** Longest answer wait a routed request may ask of a hop. */
    public static final int MAX_ROUTE_TIMEOUT_MILLIS = 60_000;
    private static final int FIRST_ID = 20;
    private static final int LAST_ID = 34;

    private final Pool<Kryo> kryos = new Pool<>(true, false, 64) {
        @Override
        protected Kryo create() {
            return newKryo();
        }
    };

    /**
     * Encoding buffers, reused: a fresh 512-byte Output per frame grew (copying) for every NODES answer and made a
     * large share of the overlay's garbage. A buffer that grew past {@link #POOLED_OUTPUT_BYTES} (a large value)
     * is not kept, so the pool stays small.
     */
    private final Pool<Output> outputs = new Pool<>(true, false, 64) {
        @Override
        protected Output create() {
            return new Output(2048, Frame.MAX_FRAME_BYTES);
        }
    };
    private static final int POOLED_OUTPUT_BYTES = 8192;

    private static Kryo newKryo() {
        Kryo k = new Kryo();
        k.setRegistrationRequired(true);
        k.setReferences(false);
        k.setMaxDepth(8);
        // Fixed ids: the wire format of version 1. Never renumber; add new messages with new ids.
        reg(k, Ping.class, 20, new Ser<Ping>() {
            void write(Output o, Ping m) { }
            Ping read(Input in) { return new Ping(); }
        });
        reg(k, Pong.class, 21, new Ser<Pong>() {
            void write(Output o, Pong m) { writeAddress(o, m.observed()); }
            Pong read(Input in) throws MalformedFrameException { return new Pong(readAddress(in)); }
        });
        reg(k, FindNode.class, 22, new Ser<FindNode>() {
            void write(Output o, FindNode m) { writeId(o, m.target()); }
            FindNode read(Input in) { return new FindNode(readId(in)); }
        });
        reg(k, Nodes.class, 23, new Ser<Nodes>() {
            void write(Output o, Nodes m) { writeContacts(o, m.nodes()); }
            Nodes read(Input in) throws MalformedFrameException { return new Nodes(readContacts(in)); }
        });
        reg(k, Get.class, 24, new Ser<Get>() {
            void write(Output o, Get m) {
                writeId(o, m.key());
                o.writeVarInt(m.maxValues(), true);
                writeBytes(o, m.placemark());
            }
            Get read(Input in) throws MalformedFrameException {
                NodeId key = readId(in);
                int max = in.readVarInt(true);
                if (max < 0) {
                    throw new MalformedFrameException("negative maxValues");
                }
                return new Get(key, max, readBytes(in, MAX_PLACEMARK_BYTES));
            }
        });
        reg(k, GetReply.class, 25, new Ser<GetReply>() {
            void write(Output o, GetReply m) {
                writeContacts(o, m.closer());
                writeValues(o, m.values());
                writeBytes(o, m.placemark());
            }
            GetReply read(Input in) throws MalformedFrameException {
                return new GetReply(readContacts(in), readValues(in), readBytes(in, MAX_PLACEMARK_BYTES));
            }
        });
        reg(k, Put.class, 26, new Ser<Put>() {
            void write(Output o, Put m) {
                writeId(o, m.key());
                writeValue(o, m.value());
                // flags: bit 0 replica, bit 1 wantCloser (bit 0 alone is what a boolean was before)
                o.writeByte((m.replica() ? 1 : 0) | (m.wantCloser() ? 2 : 0));
            }
            Put read(Input in) throws MalformedFrameException {
                NodeId key = readId(in);
                DhtValue value = readValue(in);
                int flags = in.readByte() & 0xff;
                if ((flags & ~3) != 0) {
                    throw new MalformedFrameException("unknown PUT flags " + flags);
                }
                return new Put(key, value, (flags & 1) != 0, (flags & 2) != 0);
            }
        });
        reg(k, Remove.class, 27, new Ser<Remove>() {
            void write(Output o, Remove m) {
                writeId(o, m.key());
                writeBytes(o, m.owner());
                writeBytes(o, m.nonce());
                writeBytes(o, m.proof());
                o.writeLong(m.tombstoneUntilMillis());
            }
            Remove read(Input in) throws MalformedFrameException {
                return new Remove(readId(in), readBytes(in, DhtValue.MAX_ID_BYTES), readBytes(in, DhtValue.MAX_ID_BYTES),
                        readBytes(in, 8192), in.readLong());
            }
        });
        reg(k, Listen.class, 28, new Ser<Listen>() {
            void write(Output o, Listen m) {
                writeId(o, m.key());
                o.writeLong(m.token());
                o.writeVarInt(m.seconds(), true);
            }
            Listen read(Input in) {
                return new Listen(readId(in), in.readLong(), in.readVarInt(true));
            }
        });
        reg(k, Notify.class, 29, new Ser<Notify>() {
            void write(Output o, Notify m) {
                writeId(o, m.key());
                o.writeLong(m.token());
                writeValues(o, m.values());
                writeValues(o, m.removed());
            }
            Notify read(Input in) throws MalformedFrameException {
                return new Notify(readId(in), in.readLong(), readValues(in), readValues(in));
            }
        });
        reg(k, Ack.class, 30, new Ser<Ack>() {
            void write(Output o, Ack m) {
                o.writeByte(m.status().ordinal());
                writeString(o, m.reason());
            }
            Ack read(Input in) throws MalformedFrameException {
                int s = in.readByte() & 0xff;
                Status[] all = Status.values();
                if (s >= all.length) {
                    throw new MalformedFrameException("unknown status " + s);
                }
                return new Ack(all[s], readString(in));
            }
        });
        reg(k, PutReply.class, 31, new Ser<PutReply>() {
            void write(Output o, PutReply m) {
                o.writeByte(m.status().ordinal());
                writeString(o, m.reason());
                writeContacts(o, m.closer());
                writeHeld(o, m.held());
            }
            PutReply read(Input in) throws MalformedFrameException {
                Status status = readStatus(in);
                return new PutReply(status, readString(in), readContacts(in), readHeld(in));
            }
        });
        reg(k, Route.class, 32, new Ser<Route>() {
            void write(Output o, Route m) {
                writeId(o, m.target());
                o.writeLong(m.transaction());
                o.writeByte(m.exact() ? 1 : 0);
                o.writeVarInt(m.hopLimit(), true);
                o.writeVarInt(m.timeoutMillis(), true);
                o.writeVarInt(m.via().size(), true);
                for (NodeId v : m.via()) {
                    writeId(o, v);
                }
                writeBytes(o, Bytes.utf8(m.appId()));
                writeBytes(o, m.payload());
            }
            Route read(Input in) throws MalformedFrameException {
                NodeId target = readId(in);
                long tx = in.readLong();
                int flags = in.readByte() & 0xff;
                if ((flags & ~1) != 0) {
                    throw new MalformedFrameException("unknown ROUTE flags " + flags);
                }
                int hopLimit = in.readVarInt(true);
                if (hopLimit < 1 || hopLimit > MAX_HOPS) {
                    throw new MalformedFrameException("ROUTE hop limit " + hopLimit + " outside 1.." + MAX_HOPS);
                }
                int timeout = in.readVarInt(true);
                if (timeout < 1 || timeout > MAX_ROUTE_TIMEOUT_MILLIS) {
                    throw new MalformedFrameException("ROUTE timeout " + timeout + " ms outside 1.." + MAX_ROUTE_TIMEOUT_MILLIS);
                }
                int n = in.readVarInt(true);
                if (n < 1 || n > MAX_HOPS) {
                    throw new MalformedFrameException("ROUTE via list of " + n + " entries outside 1.." + MAX_HOPS);
                }
                if ((long) n * NodeId.BYTES > in.limit() - in.position()) {
                    throw new MalformedFrameException("ROUTE via list longer than the frame");
                }
                List<NodeId> via = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    via.add(readId(in));
                }
                String app = readAppId(in);
                return new Route(target, tx, flags == 1, hopLimit, timeout, List.copyOf(via), app,
                        readBytes(in, MAX_ROUTED_PAYLOAD_BYTES));
            }
        });
        reg(k, RouteReply.class, 33, new Ser<RouteReply>() {
            void write(Output o, RouteReply m) {
                o.writeByte(m.status().ordinal());
                writeString(o, m.reason());
                writeId(o, m.responder());
                o.writeVarInt(m.hops(), true);
                writeBytes(o, m.payload());
            }
            RouteReply read(Input in) throws MalformedFrameException {
                int s = in.readByte() & 0xff;
                Status[] all = Status.values();
                if (s >= all.length) {
                    throw new MalformedFrameException("unknown status " + s);
                }
                String reason = readString(in);
                NodeId responder = readId(in);
                int hops = in.readVarInt(true);
                if (hops < 0 || hops > MAX_HOPS) {
                    throw new MalformedFrameException("ROUTE_REPLY hop count " + hops + " outside 0.." + MAX_HOPS);
                }
                return new RouteReply(all[s], reason, responder, hops, readBytes(in, MAX_ROUTED_PAYLOAD_BYTES));
            }
        });
        reg(k, PutAck.class, 34, new Ser<PutAck>() {
            void write(Output o, PutAck m) {
                o.writeByte(m.status().ordinal());
                writeString(o, m.reason());
                writeHeld(o, m.held());
            }
            PutAck read(Input in) throws MalformedFrameException {
                Status status = readStatus(in);
                return new PutAck(status, readString(in), readHeld(in));
            }
        });
        return k;
    }

    private static Status readStatus(Input in) throws MalformedFrameException {
        int s = in.readByte() & 0xff;
        Status[] all = Status.values();
        if (s >= all.length) {
            throw new MalformedFrameException("unknown status " + s);
        }
        return all[s];
    }

    /** Whether {@code app} may name a routed application: 1..32 ASCII letters, digits, '.', '-' or '_'. */
    public static boolean validAppId(String app) {
        if (app == null || app.isEmpty() || app.length() > MAX_APP_ID_CHARS) {
            return false;
        }
        for (int i = 0; i < app.length(); i++) {
            char c = app.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '-' || c == '_';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static String readAppId(Input in) throws MalformedFrameException {
        String app = readBytes(in, MAX_APP_ID_CHARS).utf8String();
        if (!validAppId(app)) {
            throw new MalformedFrameException("bad ROUTE application id (1.." + MAX_APP_ID_CHARS
                    + " ASCII letters, digits, '.', '-', '_')");
        }
        return app;
    }

    private static <T> void reg(Kryo k, Class<T> type, int id, Serializer<T> ser) {
        k.register(type, ser, id);
    }

    /** Encodes a frame; the result may exceed the link's datagram size (see {@link Fragmenter}). */
    public byte[] encode(Frame frame) {
        Kryo k = kryos.obtain();
        Output out = outputs.obtain();
        try {
            out.reset();
            out.writeByte(Frame.MAGIC0);
            out.writeByte(Frame.MAGIC1);
            out.writeByte(Frame.VERSION);
            out.writeByte(frame.reply() ? Frame.KIND_REPLY : Frame.KIND_REQUEST);
            out.writeLong(frame.requestId());
            byte[] id = new byte[NodeId.BYTES];
            frame.sender().copyTo(id, 0);
            out.writeBytes(id);
            k.writeClassAndObject(out, frame.message());
            return out.toBytes();
        } catch (KryoException e) {
            throw new IllegalArgumentException("frame exceeds " + Frame.MAX_FRAME_BYTES + " bytes: " + frame.message().getClass().getSimpleName(), e);
        } finally {
            kryos.free(k);
            if (out.getBuffer().length <= POOLED_OUTPUT_BYTES) {
                outputs.free(out);
            }
        }
    }

    /** Decodes a whole (reassembled) request or reply frame. */
    public Frame decode(byte[] data, int length) throws MalformedFrameException {
        if (length > Frame.MAX_FRAME_BYTES) {
            throw new MalformedFrameException("frame of " + length + " bytes exceeds the limit");
        }
        if (length < Frame.HEADER_BYTES + 1) {
            throw new MalformedFrameException("frame too short: " + length + " bytes");
        }
        checkPrelude(data, length);
        int kind = data[3];
        if (kind != Frame.KIND_REQUEST && kind != Frame.KIND_REPLY) {
            throw new MalformedFrameException("not a request or reply frame: kind " + kind);
        }
        Kryo k = kryos.obtain();
        try {
            Input in = new Input(data, 0, length);
            in.setPosition(4);
            long requestId = in.readLong();
            NodeId sender = readId(in);
            // Check the class id ourselves before Kryo sees it: Kryo's default registrations (String...)
            // and by-name class tags would otherwise let a datagram allocate or load what it likes.
            int bodyStart = in.position();
            int tag = in.readVarInt(true);
            if (tag < FIRST_ID + 2 || tag > LAST_ID + 2) {
                throw new MalformedFrameException("unknown message type " + (tag - 2));
            }
            in.setPosition(bodyStart);
            Registration reg = k.readClass(in);
            Object body = k.readObject(in, reg.getType());
            if (!(body instanceof Message m)) {
                throw new MalformedFrameException("body is not a message");
            }
            if (in.position() != length) {
                throw new MalformedFrameException((length - in.position()) + " trailing bytes after the body");
            }
            boolean reply = kind == Frame.KIND_REPLY;
            if (reply != (m instanceof Message.Reply)) {
                throw new MalformedFrameException("frame kind does not match " + m.getClass().getSimpleName());
            }
            return new Frame(reply, requestId, sender, m);
        } catch (KryoException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new MalformedFrameException("undecodable body: " + e.getMessage());
        } catch (MalformedWrapper e) {
            throw e.cause;
        } finally {
            k.reset();
            kryos.free(k);
        }
    }

    /** Checks magic and version; throws when the datagram is not ours or from an unknown version. */
    static void checkPrelude(byte[] data, int length) throws MalformedFrameException {
        if (length < 4 || data[0] != Frame.MAGIC0 || data[1] != Frame.MAGIC1) {
            throw new MalformedFrameException("bad magic");
        }
        if (data[2] != Frame.VERSION) {
            throw new MalformedFrameException("unsupported wire version " + data[2]);
        }
    }

    // ---- field codecs, each bounding what it reads ----

    /** Carries a {@link MalformedFrameException} through Kryo's serializer interface. */
    private static final class MalformedWrapper extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final MalformedFrameException cause;

        MalformedWrapper(MalformedFrameException cause) {
            super(cause.getMessage(), null, false, false);
            this.cause = cause;
        }
    }

    private abstract static class Ser<T> extends Serializer<T> {
        Ser() {
            setImmutable(true);
        }

        abstract void write(Output o, T m);

        abstract T read(Input in) throws MalformedFrameException;

        @Override
        public final void write(Kryo kryo, Output output, T object) {
            write(output, object);
        }

        @Override
        public final T read(Kryo kryo, Input input, Class<? extends T> type) {
            try {
                return read(input);
            } catch (MalformedFrameException e) {
                throw new MalformedWrapper(e);
            }
        }
    }

    static void writeId(Output o, NodeId id) {
        byte[] b = new byte[NodeId.BYTES];
        id.copyTo(b, 0);
        o.writeBytes(b);
    }

    static NodeId readId(Input in) {
        return NodeId.of(in.readBytes(NodeId.BYTES));
    }

    static void writeBytes(Output o, Bytes b) {
        o.writeVarInt(b.length(), true);
        o.writeBytes(b.unsafeArray());
    }

    static Bytes readBytes(Input in, int max) throws MalformedFrameException {
        int n = in.readVarInt(true);
        if (n < 0 || n > max) {
            throw new MalformedFrameException("byte string of " + n + " bytes exceeds " + max);
        }
        if (n > in.limit() - in.position()) {
            throw new MalformedFrameException("byte string longer than the frame");
        }
        return Bytes.wrap(in.readBytes(n));
    }

    static void writeString(Output o, String s) {
        writeBytes(o, Bytes.utf8(s.length() > MAX_REASON_CHARS ? s.substring(0, MAX_REASON_CHARS) : s));
    }

    static String readString(Input in) throws MalformedFrameException {
        return readBytes(in, MAX_REASON_CHARS * 4).utf8String();
    }

    static void writeAddress(Output o, InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        o.writeByte(ip.length);
        o.writeBytes(ip);
        o.writeShort(a.getPort());
    }

    static InetSocketAddress readAddress(Input in) throws MalformedFrameException {
        int len = in.readByte();
        if (len != 4 && len != 16) {
            throw new MalformedFrameException("address of " + len + " bytes");
        }
        try {
            InetAddress ip = InetAddress.getByAddress(in.readBytes(len));
            return new InetSocketAddress(ip, in.readShortUnsigned());
        } catch (UnknownHostException e) {
            throw new MalformedFrameException("bad address");
        }
    }

    static void writeContacts(Output o, List<Contact> cs) {
        o.writeVarInt(cs.size(), true);
        for (Contact c : cs) {
            writeId(o, c.id());
            writeAddress(o, c.address());
        }
    }

    static List<Contact> readContacts(Input in) throws MalformedFrameException {
        int n = in.readVarInt(true);
        if (n < 0 || n > MAX_CONTACTS) {
            throw new MalformedFrameException(n + " contacts exceed " + MAX_CONTACTS);
        }
        List<Contact> cs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            cs.add(new Contact(readId(in), readAddress(in)));
        }
        return cs;
    }

    static void writeValue(Output o, DhtValue v) {
        writeBytes(o, v.owner());
        writeBytes(o, v.nonce());
        writeBytes(o, v.data());
        o.writeLong(v.expiresAtMillis());
    }

    static DhtValue readValue(Input in) throws MalformedFrameException {
        return new DhtValue(readBytes(in, DhtValue.MAX_ID_BYTES), readBytes(in, DhtValue.MAX_ID_BYTES),
                readBytes(in, DhtValue.MAX_DATA_BYTES), in.readLong());
    }

    /** A {@link HeldValues}: a flags byte (bit 0: complete), the entry count, then owner, nonce and expiry of each. */
    static void writeHeld(Output o, HeldValues h) {
        o.writeByte(h.complete() ? 1 : 0);
        o.writeVarInt(h.values().size(), true);
        for (HeldValues.Held e : h.values()) {
            writeBytes(o, e.owner());
            writeBytes(o, e.nonce());
            o.writeLong(e.expiresAtMillis());
        }
    }

    static HeldValues readHeld(Input in) throws MalformedFrameException {
        int flags = in.readByte() & 0xff;
        if ((flags & ~1) != 0) {
            throw new MalformedFrameException("unknown held-values flags " + flags);
        }
        int n = in.readVarInt(true);
        if (n < 0 || n > HeldValues.MAX_ENTRIES) {
            throw new MalformedFrameException(n + " held values exceed " + HeldValues.MAX_ENTRIES);
        }
        List<HeldValues.Held> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(new HeldValues.Held(readBytes(in, DhtValue.MAX_ID_BYTES), readBytes(in, DhtValue.MAX_ID_BYTES),
                    in.readLong()));
        }
        return new HeldValues(out, flags == 1);
    }

    static void writeValues(Output o, List<DhtValue> vs) {
        o.writeVarInt(vs.size(), true);
        for (DhtValue v : vs) {
            writeValue(o, v);
        }
    }

    static List<DhtValue> readValues(Input in) throws MalformedFrameException {
        int n = in.readVarInt(true);
        if (n < 0 || n > MAX_VALUES) {
            throw new MalformedFrameException(n + " values exceed " + MAX_VALUES);
        }
        List<DhtValue> vs = new ArrayList<>(Math.min(n, 64));
        for (int i = 0; i < n; i++) {
            vs.add(readValue(in));
        }
        return vs;
    }
}
