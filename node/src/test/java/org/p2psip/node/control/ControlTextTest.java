package org.p2psip.node.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ControlTextTest {
    @Test
    void textRoundTrips() {
        for (String s : List.of("plain", "with space", "tab\tand\nnewline\r", "100%", "%20", "jürgen ☃ 𝄞", "a\u0000b",
                "\u00a0nbsp", "\u2028")) {
            String token = ControlText.encode(s);
            assertEquals(List.of(token), ControlText.split("  " + token + "\t"), s);
            assertEquals(s, ControlText.decodeUtf8(token), s);
        }
        assertEquals("with%20space", ControlText.encode("with space"));
        assertEquals("jürgen", ControlText.encode("jürgen"));
    }

    @Test
    void bytesRoundTrip() {
        byte[] b = {0, 1, (byte) 0xff, 'a', '%', ' ', (byte) 0xc3};
        String token = ControlText.encode(b);
        assertEquals("%00%01%FFa%25%20%C3", token);
        assertArrayEquals(b, ControlText.decode(token));
        assertArrayEquals("é".getBytes(StandardCharsets.UTF_8), ControlText.decode("%c3%A9"));
    }

    @Test
    void badEscapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> ControlText.decode("%"));
        assertThrows(IllegalArgumentException.class, () -> ControlText.decode("ab%2"));
        assertThrows(IllegalArgumentException.class, () -> ControlText.decode("%g0"));
        assertThrows(IllegalArgumentException.class, () -> ControlText.decodeUtf8("%ff"));
    }

    @Test
    void split() {
        assertEquals(List.of("PUT", "a", "b"), ControlText.split(" PUT  a\t\tb "));
        assertEquals(List.of(), ControlText.split("   "));
    }
}
