package org.p2psip.sip.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Base64;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.sip.transport.Source;
import org.p2psip.sip.transport.Target;
import org.p2psip.sip.transport.Transport;

/** The edge's flow tokens: round trips, and hostile tokens decode to nothing (no exception). */
class FlowTokensTest {
    static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 5060);

    @Test
    void aTokenNamesItsFlow() {
        FlowTokens tokens = new FlowTokens();
        Source v4 = new Source(Transport.UDP, new InetSocketAddress("198.51.100.7", 40_123), LOCAL);
        Source v6 = new Source(Transport.TCP, new InetSocketAddress("2001:db8::1", 65_535), LOCAL);
        assertEquals(Optional.of(new Target(Transport.UDP, v4.remote())), tokens.decode(tokens.encode(v4)));
        assertEquals(Optional.of(new Target(Transport.TCP, v6.remote())), tokens.decode(tokens.encode(v6)));
        String t = tokens.encode(v6);
        assertTrue(t.matches("[A-Za-z0-9_-]+") && t.length() <= FlowTokens.MAX_TOKEN_CHARS, t);
    }

    @Test
    void forgedMalformedAndForeignTokensDecodeToNothing() {
        FlowTokens tokens = new FlowTokens();
        Source s = new Source(Transport.UDP, new InetSocketAddress("203.0.113.9", 5070), LOCAL);
        String good = tokens.encode(s);
        // another peer's (or a restarted peer's) key
        assertEquals(Optional.empty(), new FlowTokens().decode(good));
        // one flipped bit anywhere
        byte[] raw = Base64.getUrlDecoder().decode(good);
        for (int i = 0; i < raw.length; i++) {
            byte[] bad = raw.clone();
            bad[i] ^= 1;
            assertEquals(Optional.empty(), tokens.decode(Base64.getUrlEncoder().withoutPadding().encodeToString(bad)),
                    "bit flipped in byte " + i);
        }
        for (String junk : new String[] {null, "", "bob", "%%%", "a".repeat(65), good + "AA", good.substring(1)}) {
            assertEquals(Optional.empty(), tokens.decode(junk), String.valueOf(junk));
        }
        Random rnd = new Random(7);
        for (int i = 0; i < 2_000; i++) {
            byte[] b = new byte[rnd.nextInt(40)];
            rnd.nextBytes(b);
            assertEquals(Optional.empty(), tokens.decode(Base64.getUrlEncoder().withoutPadding().encodeToString(b)));
        }
    }
}
