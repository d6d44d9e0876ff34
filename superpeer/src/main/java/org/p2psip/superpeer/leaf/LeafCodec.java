package org.p2psip.superpeer.leaf;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.superpeer.discovery.Ed25519Keys;
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

/**
 * Encodes and decodes the leaf protocol (version 1). Every datagram starts with {@code 'P' 'L'}, the version and a
 * type byte (below 0x40: leaf to superpeer; from 0x40: superpeer to leaf), so it shares a UDP socket with overlay
 * frames ({@code 'P' '2'}). Handshake messages end with an Ed25519 signature over every byte before it; session
 * messages carry the session id and a counter after the type and end with a 16-byte HMAC-SHA256 over every byte
 * before it. Every length is checked against the bytes left and a per-field limit before anything is allocated;
 * trailing bytes are refused. Decoders throw only {@link MalformedLeafMessageException}.
 */
public final class LeafCodec {
    /** Largest datagram sent or accepted: leaf links are on the LAN, where IP fragmentation carries it. */
    public static final int MAX_DATAGRAM = 65_000;
    static final int VERSION = 1;
    static final int SESSION_HEADER = 4 + 8 + 8;
    private static final int MAX_TEXT = 1024;
    private static final int MAX_PROOF = 8192;
    private static final int MAX_VALUES = 4096;

    static final int ATTACH = 0x01;
    static final int HEARTBEAT = 0x02;
    static final int PUT = 0x03;
    static final int GET = 0x04;
    static final int REMOVE = 0x05;
    static final int LISTEN = 0x06;
    static final int UNLISTEN = 0x07;
    static final int DETACH = 0x08;
    static final int NOTIFY_ACK = 0x09;
    static final int ACCEPT = 0x41;
    static final int REFUSE = 0x42;
    static final int HEARTBEAT_ACK = 0x43;
    static final int RESULT = 0x44;
    static final int VALUES = 0x45;
    static final int NOTIFY = 0x46;
    static final int MOVE = 0x47;

    private LeafCodec() { }

    /** A session message that passed its MAC check. */
    public record Sealed(long sessionId, long counter, InSession message) { }

    /** True when the datagram is a leaf-protocol message (not an overlay frame). */
    public static boolean isLeafDatagram(byte[] d, int len) {
        return len >= 4 && d[0] == 'P' && d[1] == 'L';
    }

    /** True for leaf-to-superpeer types; call only after {@link #isLeafDatagram}. */
    public static boolean isToSuperpeer(byte[] d) {
        return (d[3] & 0xff) < 0x40;
    }

    static boolean isHandshake(byte[] d) {
        int t = d[3] & 0xff;
        return t == ATTACH || t == ACCEPT || t == REFUSE;
    }

    // ------------------------------------------------------------------ handshake

    static byte[] attach(Attach a, Ed25519Keys keys) {
        Out o = new Out(ATTACH);
        o.raw(a.leafKey(), Ed25519Keys.RAW_PUBLIC_KEY_BYTES);
        o.raw(a.ephemeral(), LeafCrypto.KEY_BYTES);
        o.id(a.superpeer());
        o.u64(a.timestamp());
        o.u8(a.standby() ? 1 : 0);
        return o.signed(keys);
    }

    static byte[] accept(Accept a, Ed25519Keys keys) {
        Out o = new Out(ACCEPT);
        o.raw(a.superpeerKey(), Ed25519Keys.RAW_PUBLIC_KEY_BYTES);
        o.raw(a.ephemeral(), LeafCrypto.KEY_BYTES);
        o.raw(a.leafEphemeral(), LeafCrypto.KEY_BYTES);
        o.u64(a.sessionId());
        o.u16(a.heartbeatMillis());
        return o.signed(keys);
    }

    static byte[] refuse(Refuse r, Ed25519Keys keys) {
        Out o = new Out(REFUSE);
        o.raw(r.superpeerKey(), Ed25519Keys.RAW_PUBLIC_KEY_BYTES);
        o.raw(r.leafEphemeral(), LeafCrypto.KEY_BYTES);
        o.u8(r.code().ordinal());
        o.text(r.reason());
        return o.signed(keys);
    }

    /**
     * Decodes an ATTACH, ACCEPT or REFUSE and checks its signature against the key it carries. The caller checks
     * that key's id is the one it expects (the superpeer's, for ACCEPT and REFUSE).
     */
    static LeafMessage decodeHandshake(byte[] d, int len) throws MalformedLeafMessageException {
        In in = new In(d, len);
        int type = in.header();
        int signedLen = len - Ed25519Keys.SIGNATURE_BYTES;
        if (signedLen < 4) {
            throw new MalformedLeafMessageException("handshake message too short: " + len + " bytes");
        }
        In body = new In(d, signedLen);
        body.header();
        Bytes key = body.raw(Ed25519Keys.RAW_PUBLIC_KEY_BYTES);
        LeafMessage m = switch (type) {
            case ATTACH -> new Attach(key, body.raw(LeafCrypto.KEY_BYTES), body.id(), body.u64(), body.flag());
            case ACCEPT -> new Accept(key, body.raw(LeafCrypto.KEY_BYTES), body.raw(LeafCrypto.KEY_BYTES), body.u64(),
                    body.u16());
            case REFUSE -> new Refuse(key, body.raw(LeafCrypto.KEY_BYTES), body.refuseCode(), body.text());
            default -> throw new MalformedLeafMessageException("type 0x" + Integer.toHexString(type) + " is no handshake");
        };
        body.end();
        byte[] sig = Arrays.copyOfRange(d, signedLen, len);
        if (!Ed25519Keys.verify(key.unsafeArray(), d, 0, signedLen, sig)) {
            throw new MalformedLeafMessageException("bad signature on a handshake message");
        }
        return m;
    }

    // ------------------------------------------------------------------ sessions

    /**
     * Encodes a session message and appends its MAC.
     *
     * @throws IllegalArgumentException when it would exceed {@link #MAX_DATAGRAM} (a get reply too large for a leaf)
     */
    static byte[] seal(long sessionId, long counter, InSession m, byte[] macKey) {
        Out o = new Out(typeOf(m));
        o.u64(sessionId);
        o.u64(counter);
        if (m instanceof Heartbeat h) {
            o.u64(h.sequence());
        } else if (m instanceof HeartbeatAck h) {
            o.u64(h.sequence());
        } else if (m instanceof PutCall p) {
            o.u64(p.callId());
            o.id(p.key());
            o.value(p.value());
        } else if (m instanceof GetCall g) {
            o.u64(g.callId());
            o.id(g.key());
        } else if (m instanceof RemoveCall r) {
            o.u64(r.callId());
            o.id(r.key());
            o.bytes(r.owner());
            o.bytes(r.nonce());
            o.bytes(r.proof());
        } else if (m instanceof ListenCall l) {
            o.u64(l.listenId());
            o.id(l.key());
        } else if (m instanceof Unlisten u) {
            o.u64(u.listenId());
        } else if (m instanceof Result r) {
            o.u64(r.callId());
            o.u8(r.status().ordinal());
            o.u16(Math.min(r.stored(), 0xffff));
            o.u16(Math.min(r.contacted(), 0xffff));
            o.text(r.message());
        } else if (m instanceof Values v) {
            o.u64(v.callId());
            o.u16(v.values().size());
            v.values().forEach(o::value);
        } else if (m instanceof NotifyAck a) {
            o.u64(a.sequence());
        } else if (m instanceof Notify n) {
            o.u64(n.listenId());
            o.u64(n.sequence());
            o.id(n.key());
            o.u8(n.removed() ? 1 : 0);
            o.value(n.value());
        } else if (m instanceof Move mv) {
            o.address(mv.next());
        }
        // Detach has no body
        return o.mac(macKey);
    }

    /** The session id of a session message, to find its keys before {@link #open}. */
    static long sessionId(byte[] d, int len) throws MalformedLeafMessageException {
        if (len < SESSION_HEADER + LeafCrypto.MAC_BYTES) {
            throw new MalformedLeafMessageException("session message too short: " + len + " bytes");
        }
        return new In(d, len).at(4).u64();
    }

    /** Checks the MAC of a session message with {@code macKey}, then decodes it. */
    static Sealed open(byte[] d, int len, byte[] macKey) throws MalformedLeafMessageException {
        In whole = new In(d, len);
        int type = whole.header();
        int macAt = len - LeafCrypto.MAC_BYTES;
        if (macAt < SESSION_HEADER) {
            throw new MalformedLeafMessageException("session message too short: " + len + " bytes");
        }
        byte[] expected = LeafCrypto.mac(macKey, d, macAt);
        if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(d, macAt, len))) {
            throw new MalformedLeafMessageException("bad MAC (wrong session key, or altered in transit)");
        }
        In in = new In(d, macAt).at(4);
        long session = in.u64();
        long counter = in.u64();
        InSession m = switch (type) {
            case HEARTBEAT -> new Heartbeat(in.u64());
            case HEARTBEAT_ACK -> new HeartbeatAck(in.u64());
            case PUT -> new PutCall(in.u64(), in.id(), in.value());
            case GET -> new GetCall(in.u64(), in.id());
            case REMOVE -> new RemoveCall(in.u64(), in.id(), in.bytes(DhtValue.MAX_ID_BYTES),
                    in.bytes(DhtValue.MAX_ID_BYTES), in.bytes(MAX_PROOF));
            case LISTEN -> new ListenCall(in.u64(), in.id());
            case UNLISTEN -> new Unlisten(in.u64());
            case DETACH -> new Detach();
            case NOTIFY_ACK -> new NotifyAck(in.u64());
            case RESULT -> new Result(in.u64(), in.status(), in.u16(), in.u16(), in.text());
            case VALUES -> new Values(in.u64(), in.values());
            case NOTIFY -> {
                long listenId = in.u64();
                long sequence = in.u64();
                NodeId key = in.id();
                boolean removed = in.flag();
                yield new Notify(listenId, sequence, key, in.value(), removed);
            }
            case MOVE -> new Move(in.address());
            default -> throw new MalformedLeafMessageException("unknown session message type 0x" + Integer.toHexString(type));
        };
        in.end();
        return new Sealed(session, counter, m);
    }

    private static int typeOf(InSession m) {
        if (m instanceof Heartbeat) {
            return HEARTBEAT;
        } else if (m instanceof PutCall) {
            return PUT;
        } else if (m instanceof GetCall) {
            return GET;
        } else if (m instanceof RemoveCall) {
            return REMOVE;
        } else if (m instanceof ListenCall) {
            return LISTEN;
        } else if (m instanceof Unlisten) {
            return UNLISTEN;
        } else if (m instanceof Detach) {
            return DETACH;
        } else if (m instanceof NotifyAck) {
            return NOTIFY_ACK;
        } else if (m instanceof HeartbeatAck) {
            return HEARTBEAT_ACK;
        } else if (m instanceof Result) {
            return RESULT;
        } else if (m instanceof Values) {
            return VALUES;
        } else if (m instanceof Notify) {
            return NOTIFY;
        }
        return MOVE;
    }

    // ------------------------------------------------------------------ primitives

    private static final class Out {
        private final ByteArrayOutputStream b = new ByteArrayOutputStream(128);

        Out(int type) {
            b.write('P');
            b.write('L');
            b.write(VERSION);
            b.write(type);
        }

        void u8(int v) {
            b.write(v);
        }

        void u16(int v) {
            b.write(v >>> 8);
            b.write(v);
        }

        void u32(int v) {
            u16(v >>> 16);
            u16(v);
        }

        void u64(long v) {
            u32((int) (v >>> 32));
            u32((int) v);
        }

        void raw(Bytes v, int n) {
            if (v.length() != n) {
                throw new IllegalArgumentException("expected " + n + " bytes, got " + v.length());
            }
            b.writeBytes(v.unsafeArray());
        }

        void id(NodeId id) {
            b.writeBytes(id.toBytes());
        }

        void bytes(Bytes v) {
            u16(v.length());
            b.writeBytes(v.unsafeArray());
        }

        void text(String s) {
            byte[] t = s.getBytes(StandardCharsets.UTF_8);
            if (t.length > MAX_TEXT) {
                t = Arrays.copyOf(t, MAX_TEXT); // a cut multi-byte character decodes as U+FFFD; fine for a reason
            }
            u16(t.length);
            b.writeBytes(t);
        }

        void value(DhtValue v) {
            u8(v.owner().length());
            b.writeBytes(v.owner().unsafeArray());
            u8(v.nonce().length());
            b.writeBytes(v.nonce().unsafeArray());
            u32(v.data().length());
            b.writeBytes(v.data().unsafeArray());
            u64(v.expiresAtMillis());
        }

        void address(InetSocketAddress a) {
            if (a == null) {
                u8(0);
                return;
            }
            byte[] ip = a.getAddress().getAddress();
            u8(ip.length == 4 ? 4 : 6);
            b.writeBytes(ip);
            u16(a.getPort());
        }

        byte[] signed(Ed25519Keys keys) {
            byte[] body = b.toByteArray();
            b.writeBytes(keys.sign(body, 0, body.length));
            return b.toByteArray();
        }

        byte[] mac(byte[] key) {
            byte[] body = b.toByteArray();
            if (body.length + LeafCrypto.MAC_BYTES > MAX_DATAGRAM) {
                throw new IllegalArgumentException("a leaf message of " + body.length + " bytes exceeds "
                        + MAX_DATAGRAM + " bytes");
            }
            b.writeBytes(LeafCrypto.mac(key, body, body.length));
            return b.toByteArray();
        }
    }

    private static final class In {
        private final byte[] d;
        private final int limit;
        private int pos;

        In(byte[] d, int limit) throws MalformedLeafMessageException {
            if (limit > MAX_DATAGRAM || limit > d.length) {
                throw new MalformedLeafMessageException("datagram of " + limit + " bytes exceeds " + MAX_DATAGRAM);
            }
            this.d = d;
            this.limit = limit;
        }

        In at(int p) {
            pos = p;
            return this;
        }

        int header() throws MalformedLeafMessageException {
            need(4);
            if (d[0] != 'P' || d[1] != 'L') {
                throw new MalformedLeafMessageException("not a leaf-protocol message (magic)");
            }
            if (d[2] != VERSION) {
                throw new MalformedLeafMessageException("leaf protocol version " + d[2] + " is not supported (only "
                        + VERSION + "); upgrade the older peer");
            }
            pos = 4;
            return d[3] & 0xff;
        }

        private void need(int n) throws MalformedLeafMessageException {
            if (n < 0 || n > limit - pos) {
                throw new MalformedLeafMessageException("truncated: " + n + " bytes needed at offset " + pos
                        + ", " + (limit - pos) + " left");
            }
        }

        int u8() throws MalformedLeafMessageException {
            need(1);
            return d[pos++] & 0xff;
        }

        boolean flag() throws MalformedLeafMessageException {
            int v = u8();
            if (v > 1) {
                throw new MalformedLeafMessageException("flag byte " + v + " at offset " + (pos - 1) + " is not 0 or 1");
            }
            return v == 1;
        }

        int u16() throws MalformedLeafMessageException {
            return (u8() << 8) | u8();
        }

        int u32() throws MalformedLeafMessageException {
            return (u16() << 16) | u16();
        }

        long u64() throws MalformedLeafMessageException {
            return ((long) u32() << 32) | (u32() & 0xffff_ffffL);
        }

        Bytes raw(int n) throws MalformedLeafMessageException {
            need(n);
            Bytes b = Bytes.of(Arrays.copyOfRange(d, pos, pos + n));
            pos += n;
            return b;
        }

        NodeId id() throws MalformedLeafMessageException {
            return NodeId.of(raw(NodeId.BYTES).unsafeArray());
        }

        Bytes bytes(int max) throws MalformedLeafMessageException {
            int n = u16();
            if (n > max) {
                throw new MalformedLeafMessageException(n + " bytes exceed the field's limit of " + max);
            }
            return raw(n);
        }

        String text() throws MalformedLeafMessageException {
            return new String(bytes(MAX_TEXT).unsafeArray(), StandardCharsets.UTF_8);
        }

        Status status() throws MalformedLeafMessageException {
            int s = u8();
            if (s >= Status.values().length) {
                throw new MalformedLeafMessageException("unknown status " + s);
            }
            return Status.values()[s];
        }

        RefuseCode refuseCode() throws MalformedLeafMessageException {
            int s = u8();
            if (s >= RefuseCode.values().length) {
                throw new MalformedLeafMessageException("unknown refuse code " + s);
            }
            return RefuseCode.values()[s];
        }

        DhtValue value() throws MalformedLeafMessageException {
            int on = u8();
            if (on > DhtValue.MAX_ID_BYTES) {
                throw new MalformedLeafMessageException("owner of " + on + " bytes exceeds " + DhtValue.MAX_ID_BYTES);
            }
            Bytes owner = raw(on);
            int nn = u8();
            if (nn > DhtValue.MAX_ID_BYTES) {
                throw new MalformedLeafMessageException("nonce of " + nn + " bytes exceeds " + DhtValue.MAX_ID_BYTES);
            }
            Bytes nonce = raw(nn);
            int dn = u32();
            if (dn < 0 || dn > DhtValue.MAX_DATA_BYTES) {
                throw new MalformedLeafMessageException("value of " + dn + " bytes exceeds " + DhtValue.MAX_DATA_BYTES);
            }
            Bytes data = raw(dn);
            return new DhtValue(owner, nonce, data, u64());
        }

        List<DhtValue> values() throws MalformedLeafMessageException {
            int n = u16();
            if (n > MAX_VALUES) {
                throw new MalformedLeafMessageException(n + " values exceed " + MAX_VALUES);
            }
            List<DhtValue> out = new ArrayList<>(Math.min(n, 64));
            for (int i = 0; i < n; i++) {
                out.add(value());
            }
            return out;
        }

        InetSocketAddress address() throws MalformedLeafMessageException {
            int fam = u8();
            if (fam == 0) {
                return null;
            }
            if (fam != 4 && fam != 6) {
                throw new MalformedLeafMessageException("unknown address family " + fam);
            }
            Bytes ip = raw(fam == 4 ? 4 : 16);
            int port = u16();
            try {
                return new InetSocketAddress(InetAddress.getByAddress(ip.unsafeArray()), port);
            } catch (UnknownHostException e) {
                throw new MalformedLeafMessageException("bad address: " + e.getMessage());
            }
        }

        void end() throws MalformedLeafMessageException {
            if (pos != limit) {
                throw new MalformedLeafMessageException((limit - pos) + " trailing bytes");
            }
        }
    }
}
