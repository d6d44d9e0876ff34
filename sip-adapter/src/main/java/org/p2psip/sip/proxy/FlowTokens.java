package org.p2psip.sip.proxy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.p2psip.sip.transport.Source;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;

/**
 * Flow tokens of an edge proxy (RFC 5626 §5.2): the user part of the Path URI this peer inserts into a REGISTER it
 * relays names the flow the REGISTER came on (transport, source address and port: the phone's NAT binding, as
 * rport saw it), authenticated with an HMAC under a key made at each start. A request that comes back with that URI
 * as its top Route goes down the same flow, so a phone behind NAT is reached at its mapped address whatever its
 * Contact says. Stateless: the edge keeps nothing per phone; a token from before a restart (or forged) does not
 * decode, and the request falls back to its Request-URI.
 */
public final class FlowTokens {
    private static final int MAC_BYTES = 10;
    /** Longest token we accept: MAC, transport, IPv6 address and port, in base64url. */
    static final int MAX_TOKEN_CHARS = 64;
    private final SecretKeySpec key;

    public FlowTokens() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        this.key = new SecretKeySpec(k, "HmacSHA256");
    }

    /** The token naming {@code flow}: base64url (no padding) of MAC, transport, address and port. */
    public String encode(Source flow) {
        byte[] addr = flow.remote().getAddress().getAddress();
        ByteBuffer b = ByteBuffer.allocate(1 + addr.length + 2);
        b.put((byte) flow.transport().ordinal()).put(addr).putShort((short) flow.remote().getPort());
        byte[] payload = b.array();
        byte[] out = new byte[MAC_BYTES + payload.length];
        System.arraycopy(mac(payload), 0, out, 0, MAC_BYTES);
        System.arraycopy(payload, 0, out, MAC_BYTES, payload.length);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(out);
    }

    /** The flow a token names, if it is one of ours; empty for anything else (malformed, forged, older key). */
    public Optional<Target> decode(String token) {
        if (token == null || token.isEmpty() || token.length() > MAX_TOKEN_CHARS) {
            return Optional.empty();
        }
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(token);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        int addrLen = raw.length - MAC_BYTES - 3;
        if (addrLen != 4 && addrLen != 16) {
            return Optional.empty();
        }
        byte[] payload = Arrays.copyOfRange(raw, MAC_BYTES, raw.length);
        if (!MessageDigest.isEqual(Arrays.copyOf(mac(payload), MAC_BYTES), Arrays.copyOf(raw, MAC_BYTES))) {
            return Optional.empty();
        }
        int t = payload[0];
        if (t < 0 || t >= Transport.values().length) {
            return Optional.empty();
        }
        try {
            InetAddress a = InetAddress.getByAddress(Arrays.copyOfRange(payload, 1, 1 + addrLen));
            int port = ((payload[1 + addrLen] & 0xff) << 8) | (payload[2 + addrLen] & 0xff);
            return Optional.of(new Target(Transport.values()[t], new InetSocketAddress(a, port)));
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    private byte[] mac(byte[] payload) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            return m.doFinal(payload);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }
}
