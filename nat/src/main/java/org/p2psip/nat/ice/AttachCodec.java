package org.p2psip.nat.ice;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.p2psip.overlay.NodeId;

/**
 * The binary form of {@link AttachMessage}s. Decoding takes hostile input: every length is checked against the
 * bytes left and a limit before use, and anything wrong is an {@link AttachFormatException} naming the rule.
 *
 * <pre>
 *  'A' 'T'  magic          1 version = 1    1 kind: 1 request, 2 answer, 3 refused, 4 trickled candidates
 *  20 from node id         20 to node id     8 transaction
 *  request/answer: ufrag (1-byte length, ASCII), password (same), candidate count (1 byte), per candidate:
 *      type (1: 0 host, 1 srflx, 2 prflx, 3 relay), foundation (1-byte length, ASCII), priority (4),
 *      address, related flag (1: 0 or 1) [+ address]; an address is family (1: 4 or 6), the IP, the port (2)
 *  refused: reason (2-byte length, UTF-8, at most 512 bytes)
 *  candidates: candidate count (1 byte, 1..32) and the candidates as above
 * </pre>
 */
public final class AttachCodec {
    /** No encoded message is larger. */
    public static final int MAX_BYTES = 8192;
    private static final byte MAGIC0 = 'A';
    private static final byte MAGIC1 = 'T';
    private static final byte VERSION = 1;
    private static final int MAX_REASON_BYTES = 512;

    private AttachCodec() {
    }

    public static byte[] encode(AttachMessage m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        out.write(MAGIC0);
        out.write(MAGIC1);
        out.write(VERSION);
        out.write(m instanceof AttachMessage.Request ? 1 : m instanceof AttachMessage.Answer ? 2
                : m instanceof AttachMessage.Refused ? 3 : 4);
        out.writeBytes(m.from().toBytes());
        out.writeBytes(m.to().toBytes());
        out.writeBytes(ByteBuffer.allocate(8).putLong(m.transaction()).array());
        if (m instanceof AttachMessage.Request r) {
            writeIce(out, r.ice());
        } else if (m instanceof AttachMessage.Answer a) {
            writeIce(out, a.ice());
        } else if (m instanceof AttachMessage.Refused f) {
            byte[] reason = truncateUtf8(f.reason(), MAX_REASON_BYTES);
            out.write(reason.length >>> 8);
            out.write(reason.length);
            out.writeBytes(reason);
        } else if (m instanceof AttachMessage.Candidates c) {
            writeCandidates(out, c.candidates());
        }
        if (out.size() > MAX_BYTES) {
            throw new IllegalArgumentException("attach message of " + out.size() + " bytes exceeds " + MAX_BYTES);
        }
        return out.toByteArray();
    }

    private static void writeIce(ByteArrayOutputStream out, IceParameters ice) {
        writeShortAscii(out, ice.ufrag());
        writeShortAscii(out, ice.password());
        writeCandidates(out, ice.candidates());
    }

    private static void writeCandidates(ByteArrayOutputStream out, List<IceCandidate> candidates) {
        out.write(candidates.size());
        for (IceCandidate c : candidates) {
            out.write(c.type().ordinal());
            writeShortAscii(out, c.foundation());
            out.writeBytes(ByteBuffer.allocate(4).putInt((int) c.priority()).array());
            writeAddress(out, c.address());
            if (c.related() == null) {
                out.write(0);
            } else {
                out.write(1);
                writeAddress(out, c.related());
            }
        }
    }

    private static void writeShortAscii(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        out.write(b.length);
        out.writeBytes(b);
    }

    private static void writeAddress(ByteArrayOutputStream out, InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        out.write(ip.length == 4 ? 4 : 6);
        out.writeBytes(ip);
        out.write(a.getPort() >>> 8);
        out.write(a.getPort());
    }

    private static byte[] truncateUtf8(String s, int max) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= max) {
            return b;
        }
        int end = max;
        while (end > 0 && (b[end] & 0xC0) == 0x80) {
            end--; // do not cut a character in half
        }
        return java.util.Arrays.copyOf(b, end);
    }

    /** Decodes one message, or throws {@link AttachFormatException} saying what is wrong and where. */
    public static AttachMessage decode(byte[] data) throws AttachFormatException {
        if (data.length > MAX_BYTES) {
            throw new AttachFormatException("attach message of " + data.length + " bytes exceeds " + MAX_BYTES);
        }
        Reader r = new Reader(data);
        if (r.u8("magic") != MAGIC0 || r.u8("magic") != MAGIC1) {
            throw new AttachFormatException("not an attach message (bad magic)");
        }
        int version = r.u8("version");
        if (version != VERSION) {
            throw new AttachFormatException("attach version " + version + " is not supported (expected " + VERSION + ")");
        }
        int kind = r.u8("kind");
        NodeId from = NodeId.of(r.bytes(NodeId.BYTES, "from id"));
        NodeId to = NodeId.of(r.bytes(NodeId.BYTES, "to id"));
        long tx = ByteBuffer.wrap(r.bytes(8, "transaction")).getLong();
        AttachMessage m = switch (kind) {
            case 1 -> new AttachMessage.Request(from, to, tx, readIce(r));
            case 2 -> new AttachMessage.Answer(from, to, tx, readIce(r));
            case 3 -> {
                int len = r.u16("reason length");
                if (len > MAX_REASON_BYTES) {
                    throw new AttachFormatException("reason of " + len + " bytes exceeds " + MAX_REASON_BYTES);
                }
                yield new AttachMessage.Refused(from, to, tx, utf8(r.bytes(len, "reason")));
            }
            case 4 -> new AttachMessage.Candidates(from, to, tx, readCandidates(r));
            default -> throw new AttachFormatException("unknown attach kind " + kind);
        };
        if (r.remaining() != 0) {
            throw new AttachFormatException(r.remaining() + " trailing bytes after the attach message");
        }
        return m;
    }

    private static IceParameters readIce(Reader r) throws AttachFormatException {
        String ufrag = r.shortAscii("ufrag");
        String password = r.shortAscii("password");
        List<IceCandidate> candidates = readCandidates(r);
        try {
            return new IceParameters(ufrag, password, candidates);
        } catch (IllegalArgumentException e) {
            throw new AttachFormatException(e.getMessage());
        }
    }

    private static List<IceCandidate> readCandidates(Reader r) throws AttachFormatException {
        int n = r.u8("candidate count");
        if (n < 1 || n > IceParameters.MAX_CANDIDATES) {
            throw new AttachFormatException("candidate count " + n + " outside 1.." + IceParameters.MAX_CANDIDATES);
        }
        List<IceCandidate> candidates = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int type = r.u8("candidate type");
            if (type >= IceCandidate.Type.values().length) {
                throw new AttachFormatException("candidate " + i + ": unknown type " + type);
            }
            String foundation = r.shortAscii("foundation");
            long priority = ByteBuffer.wrap(r.bytes(4, "priority")).getInt() & 0xFFFF_FFFFL;
            InetSocketAddress address = readAddress(r);
            int flag = r.u8("related flag");
            if (flag > 1) {
                throw new AttachFormatException("candidate " + i + ": related flag " + flag + " is not 0 or 1");
            }
            InetSocketAddress related = flag == 1 ? readAddress(r) : null;
            try {
                candidates.add(new IceCandidate(IceCandidate.Type.values()[type], foundation, priority, address, related));
            } catch (IllegalArgumentException e) {
                throw new AttachFormatException("candidate " + i + ": " + e.getMessage());
            }
        }
        return candidates;
    }

    private static InetSocketAddress readAddress(Reader r) throws AttachFormatException {
        int family = r.u8("address family");
        if (family != 4 && family != 6) {
            throw new AttachFormatException("address family " + family + " is not 4 or 6");
        }
        byte[] ip = r.bytes(family == 4 ? 4 : 16, "IP address");
        int port = r.u16("port");
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new AttachFormatException("bad IP address: " + e.getMessage());
        }
    }

    private static String utf8(byte[] b) throws AttachFormatException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new AttachFormatException("reason is not valid UTF-8");
        }
    }

    /** Bounds-checked reads. */
    private static final class Reader {
        private final byte[] b;
        private int pos;

        Reader(byte[] b) {
            this.b = b;
        }

        int remaining() {
            return b.length - pos;
        }

        int u8(String what) throws AttachFormatException {
            need(1, what);
            return b[pos++] & 0xFF;
        }

        int u16(String what) throws AttachFormatException {
            need(2, what);
            int v = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            pos += 2;
            return v;
        }

        byte[] bytes(int n, String what) throws AttachFormatException {
            need(n, what);
            byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + n);
            pos += n;
            return out;
        }

        String shortAscii(String what) throws AttachFormatException {
            int len = u8(what + " length");
            byte[] s = bytes(len, what);
            for (byte c : s) {
                if (c < 0x21 || c > 0x7E) {
                    throw new AttachFormatException(what + " has a byte outside printable ASCII at offset " + pos);
                }
            }
            return new String(s, StandardCharsets.US_ASCII);
        }

        private void need(int n, String what) throws AttachFormatException {
            if (n > b.length - pos) {
                throw new AttachFormatException("truncated: " + what + " needs " + n + " bytes at offset " + pos
                        + ", " + (b.length - pos) + " left");
            }
        }
    }
}
