package org.p2psip.node.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;

/** The control port on a raw socket: bad input gets ERR and the node keeps serving. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ControlPortTest {
    @TempDir
    Path tmp;

    private Peer peer;

    @BeforeEach
    void start() throws Exception {
        peer = TestSupport.peer(tmp.resolve("p")).build();
        peer.start().get(20, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        peer.close();
    }

    /** A raw connection to the control port. */
    private final class Conn implements AutoCloseable {
        final Socket socket;
        final OutputStream out;
        final BufferedReader in;

        Conn() throws IOException {
            socket = new Socket(peer.controlAddress().getAddress(), peer.controlAddress().getPort());
            socket.setSoTimeout(20_000);
            out = socket.getOutputStream();
            in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        }

        void send(byte[] bytes) throws IOException {
            out.write(bytes);
            out.flush();
        }

        void send(String text) throws IOException {
            send(text.getBytes(StandardCharsets.UTF_8));
        }

        /** The lines of one reply, up to and including OK or ERR. */
        List<String> reply() throws IOException {
            List<String> lines = new ArrayList<>();
            while (true) {
                String l = in.readLine();
                if (l == null) {
                    throw new IOException("connection closed after " + lines);
                }
                lines.add(l);
                if (l.equals("OK") || l.startsWith("ERR ")) {
                    return lines;
                }
            }
        }

        String last(List<String> reply) {
            return reply.get(reply.size() - 1);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    @Test
    void bindsLoopbackOnly() throws Exception {
        InetAddress a = peer.controlAddress().getAddress();
        assertEquals("127.0.0.1", a.getHostAddress());
    }

    @Test
    void badRequestsGetErrAndTheConnectionGoesOn() throws Exception {
        try (Conn c = new Conn()) {
            c.send("this is garbage\n");
            assertTrue(c.last(c.reply()).startsWith("ERR unknown command 'THIS'"));
            c.send("\n");
            assertTrue(c.last(c.reply()).startsWith("ERR empty request"));
            c.send("PUT onlyname\n");
            assertTrue(c.last(c.reply()).startsWith("ERR usage: PUT"));
            c.send("PUT n v notanumber\n");
            assertTrue(c.last(c.reply()).startsWith("ERR bad ttlSeconds"));
            c.send("PUT n v 0\n");
            assertTrue(c.last(c.reply()).startsWith("ERR ttlSeconds must be within"));
            c.send("PUT n bad%zzvalue\n");
            assertTrue(c.last(c.reply()).startsWith("ERR bad value"));
            c.send("GET %ff\n");
            assertTrue(c.last(c.reply()).startsWith("ERR bad name: not valid UTF-8"));
            c.send(new byte[] {'G', 'E', 'T', ' ', (byte) 0xff, (byte) 0xfe, '\n'});
            assertEquals("ERR request line is not valid UTF-8", c.last(c.reply()));
            c.send("GET a b c\r\n");
            assertTrue(c.last(c.reply()).startsWith("ERR usage: GET"));

            c.send("status\n");
            List<String> status = c.reply();
            assertEquals("OK", c.last(status));
            assertTrue(status.contains("id " + peer.id().toHex()), status.toString());
        }
    }

    @Test
    void oversizedLineIsRefusedAndTheNodeKeepsServing() throws Exception {
        try (Conn c = new Conn()) {
            byte[] big = ("PUT big " + "x".repeat(ControlServer.MAX_LINE_BYTES + 10_000) + "\n")
                    .getBytes(StandardCharsets.US_ASCII);
            c.send(big);
            assertEquals("ERR request line longer than " + ControlServer.MAX_LINE_BYTES + " bytes; it was dropped",
                    c.last(c.reply()));
            // The rest of the long line was discarded, not read as a request; the next line is served.
            c.send("PUT small v1\n");
            assertTrue(c.reply().get(0).startsWith("STORED 1 1"));
            c.send("GET small\n");
            List<String> got = c.reply();
            assertEquals("OK", c.last(got));
            assertEquals(2, got.size(), got.toString());
            assertTrue(got.get(0).startsWith("VALUE v1 "), got.toString());
        }
        // A value near the 64 KiB limit fits in a line.
        try (Conn c = new Conn()) {
            String value = "y".repeat(64 * 1024);
            c.send("PUT near-limit " + value + " 60\n");
            assertEquals("OK", c.last(c.reply()));
            c.send("PUT too-big " + value + "z 60\n");
            assertTrue(c.last(c.reply()).startsWith("ERR a value is at most 65536 bytes"));
        }
        // A fresh connection works too.
        try (Conn c = new Conn()) {
            c.send("STATUS\n");
            assertEquals("OK", c.last(c.reply()));
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (Conn c = new Conn()) {
            c.send("PUT k v1\nPUT k v2 30 secret\nBOGUS\nGET k\nHELP\n");
            assertEquals("STORED 1 1", c.reply().get(0));
            assertEquals("STORED 1 1", c.reply().get(0));
            assertTrue(c.last(c.reply()).startsWith("ERR unknown command 'BOGUS'"));
            List<String> get = c.reply();
            assertEquals(3, get.size(), get.toString());
            assertTrue(get.stream().anyMatch(l -> l.startsWith("VALUE v1 ") && l.endsWith(" -")), get.toString());
            assertTrue(get.stream().anyMatch(l -> l.startsWith("VALUE v2 ") && !l.endsWith(" -")), get.toString());
            assertEquals("OK", c.last(c.reply()));
        }
    }

    @Test
    void quitClosesTheConnection() throws Exception {
        try (Conn c = new Conn()) {
            c.send("QUIT\n");
            assertEquals(List.of("OK"), c.reply());
            assertEquals(null, c.in.readLine());
        }
    }

    @Test
    void clientDisconnectingMidRequestDoesNotHurt() throws Exception {
        for (int i = 0; i < 5; i++) {
            try (Conn c = new Conn()) {
                c.send("GET half-a-line-without-newline");
            }
            try (Conn c = new Conn()) {
                c.send("GET k\n");
            }
        }
        try (Conn c = new Conn()) {
            c.send("STATUS\n");
            assertEquals("OK", c.last(c.reply()));
        }
    }
}
