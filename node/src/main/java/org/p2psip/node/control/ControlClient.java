package org.p2psip.node.control;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.p2psip.node.HostPort;

/**
 * A blocking client of the control port, as the CLI uses it. One request at a time; bounded replies.
 */
public final class ControlClient implements AutoCloseable {
    /** Longest reply line accepted: a 64 KiB value with every byte as %XX, plus its expiry and owner. */
    public static final int MAX_REPLY_LINE_BYTES = 3 * 64 * 1024 + 1024;
    /** Most lines in one reply. */
    public static final int MAX_REPLY_LINES = 100_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final InetSocketAddress address;

    /** The reply to one request: its lines without the final status line, and OK or the ERR message. */
    public record Response(List<String> lines, boolean ok, String error) { }

    /** Nothing listens on the control port. */
    public static final class NoNodeException extends IOException {
        private static final long serialVersionUID = 1L;

        NoNodeException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private ControlClient(Socket socket, InetSocketAddress address) throws IOException {
        this.socket = socket;
        this.address = address;
        this.in = new java.io.BufferedInputStream(socket.getInputStream(), 16 * 1024);
        this.out = socket.getOutputStream();
    }

    /**
     * Connects to 127.0.0.1:{@code port}.
     *
     * @param timeoutMillis limit for connecting and for each reply
     * @throws NoNodeException when nothing listens there
     */
    public static ControlClient connect(int port, int timeoutMillis) throws IOException {
        InetSocketAddress a = new InetSocketAddress(ControlServer.loopback(), port);
        Socket s = new Socket();
        try {
            s.connect(a, timeoutMillis);
            s.setSoTimeout(timeoutMillis);
            s.setTcpNoDelay(true);
            return new ControlClient(s, a);
        } catch (ConnectException | SocketTimeoutException e) {
            s.close();
            throw new NoNodeException("no node answers on " + HostPort.format(a)
                    + "; start one with `p2psip run`", e);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** Sends one request line (without a line break) and reads its reply. */
    public Response request(String line) throws IOException {
        if (line.indexOf('\n') >= 0 || line.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("a request is one line");
        }
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        List<String> lines = new ArrayList<>();
        while (true) {
            String l = readLine();
            if (l.equals("OK")) {
                return new Response(List.copyOf(lines), true, null);
            }
            if (l.startsWith("ERR")) {
                return new Response(List.copyOf(lines), false, l.length() > 4 ? l.substring(4) : "failed");
            }
            if (lines.size() >= MAX_REPLY_LINES) {
                throw new IOException("the reply from " + HostPort.format(address) + " has more than "
                        + MAX_REPLY_LINES + " lines");
            }
            lines.add(l);
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream(128);
        while (true) {
            int b;
            try {
                b = in.read();
            } catch (SocketTimeoutException e) {
                throw new IOException("the node on " + HostPort.format(address) + " did not answer in time", e);
            }
            if (b < 0) {
                throw new EOFException("the node on " + HostPort.format(address) + " closed the connection");
            }
            if (b == '\n') {
                byte[] bytes = buf.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.UTF_8);
            }
            if (buf.size() >= MAX_REPLY_LINE_BYTES) {
                throw new IOException("a reply line from " + HostPort.format(address) + " is longer than "
                        + MAX_REPLY_LINE_BYTES + " bytes");
            }
            buf.write(b);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
