package org.p2psip.node.demo;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.p2psip.sip.message.Address;
import org.p2psip.sip.message.SipMessage;
import org.p2psip.sip.message.SipParseException;
import org.p2psip.sip.message.SipParser;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.registrar.DigestAuthenticator;

/**
 * A minimal SIP phone for the demo: real SIP over UDP on 127.0.0.1, built on the sip-adapter's message model and
 * codec. As a client it REGISTERs (answering the digest challenge), sends MESSAGE, and places a call (INVITE, ACK
 * and BYE along the Record-Route route set) through its outbound proxy (its peer). As a server it answers what
 * reaches it: INVITE with 180 then 200, MESSAGE and BYE with 200, and notes ACKs. Requests are retransmitted every
 * 500 ms until a response arrives (UDP); duplicate requests get the same answer again.
 */
final class DemoPhone implements AutoCloseable {
    /** A request this phone received and answered. */
    record Received(String method, String from, String body) {
    }

    private static final long RETRANSMIT_MS = 500;

    private final String user;
    private final String domain;
    private final String password;
    private final InetSocketAddress proxy;
    private final DatagramSocket socket;
    private final SipParser parser = new SipParser();
    private final BlockingQueue<SipResponse> responses = new LinkedBlockingQueue<>();
    private final List<Received> received = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, List<byte[]>> answered = new ConcurrentHashMap<>();
    private final Thread reader;
    private final String tag = hex();
    private int cseq = 1;

    /** A phone for {@code user@domain} that uses {@code proxy} (its peer's SIP address) as registrar and proxy. */
    DemoPhone(String user, String domain, String password, InetSocketAddress proxy) throws SocketException {
        this.user = user;
        this.domain = domain;
        this.password = password;
        this.proxy = proxy;
        this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.reader = new Thread(this::read, "demo-phone-" + user);
        reader.setDaemon(true);
        reader.start();
    }

    String aor() {
        return "sip:" + user + "@" + domain;
    }

    private String contact() {
        return "<sip:" + user + "@127.0.0.1:" + socket.getLocalPort() + ">";
    }

    private String via(String branch) {
        return "SIP/2.0/UDP 127.0.0.1:" + socket.getLocalPort() + ";branch=" + branch + ";rport";
    }

    List<Received> received() {
        synchronized (received) {
            return List.copyOf(received);
        }
    }

    // ------------------------------------------------------------------ client side

    /** REGISTER, answer the 401 with digest (the first offered algorithm), expect 200. Returns the final status. */
    int register(long timeoutMs) throws IOException, InterruptedException {
        String callId = hex() + "@demo";
        SipRequest first = request("REGISTER", "sip:" + domain, callId, cseq++, "<" + aor() + ">;tag=" + tag,
                "<" + aor() + ">", List.of(), null).header("Contact", contact()).header("Expires", "600").build();
        SipResponse r = transact(first, proxy, timeoutMs);
        if (r.status() != 401) {
            return r.status();
        }
        String challenge = r.headers().first("WWW-Authenticate")
                .orElseThrow(() -> new IOException("401 without WWW-Authenticate"));
        String authorization = digest(challenge, "REGISTER", "sip:" + domain);
        SipRequest second = request("REGISTER", "sip:" + domain, callId, cseq++, "<" + aor() + ">;tag=" + tag,
                "<" + aor() + ">", List.of(), null).header("Contact", contact()).header("Expires", "600")
                .header("Authorization", authorization).build();
        return transact(second, proxy, timeoutMs).status();
    }

    /** Sends a MESSAGE to {@code to} (an AOR) through the proxy; returns the final status. */
    int message(String to, String text, long timeoutMs) throws IOException, InterruptedException {
        SipRequest m = request("MESSAGE", to, hex() + "@demo", cseq++, "<" + aor() + ">;tag=" + tag, "<" + to + ">",
                List.of(), null).body("text/plain", text).build();
        return transact(m, proxy, timeoutMs).status();
    }

    /** An established call: what ACK and BYE need. */
    record Call(String callId, String localFrom, String remoteTo, String remoteTarget, List<String> routeSet,
            long inviteCseq) {
    }

    /**
     * INVITE {@code to} through the proxy; reports each provisional to {@code progress}; on 200 sends the ACK along
     * the route set and returns the call; empty with the final status otherwise.
     */
    CallResult invite(String to, long timeoutMs, java.util.function.IntConsumer progress)
            throws IOException, InterruptedException {
        String callId = hex() + "@demo";
        long n = cseq++;
        String from = "<" + aor() + ">;tag=" + tag;
        String sdp = "v=0\r\no=" + user + " 1 1 IN IP4 127.0.0.1\r\ns=demo\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                + "m=audio 9 RTP/AVP 0\r\n";
        SipRequest invite = request("INVITE", to, callId, n, from, "<" + to + ">", List.of(), null)
                .header("Contact", contact()).body("application/sdp", sdp).build();
        SipResponse last = null;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        boolean provisional = false;
        send(invite, proxy);
        long nextSend = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRANSMIT_MS);
        while (System.nanoTime() < deadline) {
            SipResponse r = responses.poll(100, TimeUnit.MILLISECONDS);
            if (r == null) {
                if (!provisional && System.nanoTime() > nextSend) {
                    send(invite, proxy);
                    nextSend = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRANSMIT_MS);
                }
                continue;
            }
            if (!callId.equals(r.callId())) {
                continue;
            }
            last = r;
            if (r.isProvisional()) {
                provisional = true;
                progress.accept(r.status());
                continue;
            }
            break;
        }
        if (last == null || last.isProvisional()) {
            return new CallResult(Optional.empty(), last == null ? 408 : last.status());
        }
        if (!last.isSuccess()) {
            return new CallResult(Optional.empty(), last.status()); // the transaction layer ACKs non-2xx hop by hop
        }
        List<String> routes = new ArrayList<>();
        for (Address a : last.recordRoutes()) {
            routes.add(a.toString());
        }
        Collections.reverse(routes); // a UAC's route set is the Record-Route in reverse order (RFC 3261 §12.1.2)
        String target = last.contacts().get(0).address().uri().toString();
        Call call = new Call(callId, from, last.headers().first("To").orElseThrow(), target, List.copyOf(routes), n);
        SipRequest ack = request("ACK", target, callId, n, from, call.remoteTo(), routes, null).build();
        send(ack, firstHop(routes));
        return new CallResult(Optional.of(call), last.status());
    }

    /** The outcome of an INVITE. */
    record CallResult(Optional<Call> call, int status) {
    }

    /** BYE inside the call, along its route set; returns the final status. */
    int bye(Call call, long timeoutMs) throws IOException, InterruptedException {
        SipRequest bye = request("BYE", call.remoteTarget(), call.callId(), call.inviteCseq() + 1, call.localFrom(),
                call.remoteTo(), call.routeSet(), null).build();
        return transact(bye, firstHop(call.routeSet()), timeoutMs).status();
    }

    private InetSocketAddress firstHop(List<String> routes) {
        if (routes.isEmpty()) {
            return proxy;
        }
        SipUri u = Address.parse(routes.get(0), "Route").sipUri()
                .orElseThrow(() -> new IllegalStateException("a Route that is not a SIP URI: " + routes.get(0)));
        return new InetSocketAddress(u.host().replace("[", "").replace("]", ""), u.port() < 0 ? 5060 : u.port());
    }

    private SipRequest.Builder request(String method, String uri, String callId, long n, String from, String to,
            List<String> routes, String unused) {
        SipRequest.Builder b = SipRequest.builder(method, SipUri.parse(uri))
                .header("Via", via("z9hG4bK" + hex()))
                .header("Max-Forwards", "70");
        for (String r : routes) {
            b.header("Route", r);
        }
        return b.header("From", from).header("To", to).header("Call-ID", callId).header("CSeq", n + " " + method);
    }

    /** Sends a non-INVITE request (retransmitted until a response) and waits for its final response. */
    private SipResponse transact(SipRequest r, InetSocketAddress to, long timeoutMs)
            throws IOException, InterruptedException {
        String branch = r.topVia().branch().orElse("");
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        send(r, to);
        long nextSend = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRANSMIT_MS);
        boolean provisional = false;
        while (System.nanoTime() < deadline) {
            SipResponse resp = responses.poll(100, TimeUnit.MILLISECONDS);
            if (resp == null) {
                if (!provisional && System.nanoTime() > nextSend) {
                    send(r, to);
                    nextSend = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(RETRANSMIT_MS);
                }
                continue;
            }
            if (!branch.equals(resp.topVia().branch().orElse(null))) {
                continue; // a late answer to an earlier request
            }
            if (resp.isProvisional()) {
                provisional = true;
                continue;
            }
            return resp;
        }
        throw new IOException("no final response to " + r.method() + " within " + timeoutMs + " ms");
    }

    /** The Authorization value answering a digest challenge (RFC 7616, qop=auth when offered). */
    private String digest(String challenge, String method, String uri) throws IOException {
        String realm = param(challenge, "realm");
        String nonce = param(challenge, "nonce");
        String algorithm = Optional.ofNullable(param(challenge, "algorithm")).orElse("MD5");
        String qop = param(challenge, "qop");
        if (realm == null || nonce == null) {
            throw new IOException("a digest challenge without realm or nonce: " + challenge);
        }
        String ha1 = DigestAuthenticator.h(algorithm, user + ":" + realm + ":" + password);
        String ha2 = DigestAuthenticator.h(algorithm, method + ":" + uri);
        String cnonce = hex();
        boolean auth = qop != null && qop.toLowerCase(Locale.ROOT).contains("auth");
        String response = auth
                ? DigestAuthenticator.h(algorithm, ha1 + ":" + nonce + ":00000001:" + cnonce + ":auth:" + ha2)
                : DigestAuthenticator.h(algorithm, ha1 + ":" + nonce + ":" + ha2);
        return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" + uri
                + "\", response=\"" + response + "\", algorithm=" + algorithm
                + (auth ? ", qop=auth, nc=00000001, cnonce=\"" + cnonce + "\"" : "");
    }

    private static String param(String challenge, String name) {
        Matcher m = Pattern.compile("(?i)\\b" + name + "=(\"([^\"]*)\"|([^,\\s]+))").matcher(challenge);
        if (!m.find()) {
            return null;
        }
        return m.group(2) != null ? m.group(2) : m.group(3);
    }

    // ------------------------------------------------------------------ server side

    private void read() {
        byte[] buf = new byte[65_535];
        while (!socket.isClosed()) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(p);
            } catch (IOException e) {
                return;
            }
            SipMessage m;
            try {
                m = parser.parseDatagram(p.getData(), p.getOffset(), p.getLength());
            } catch (SipParseException e) {
                continue; // not for a demo phone to repair
            }
            InetSocketAddress from = new InetSocketAddress(p.getAddress(), p.getPort());
            try {
                if (m instanceof SipResponse r) {
                    responses.add(r);
                } else if (m instanceof SipRequest r) {
                    serve(r, from);
                }
            } catch (IOException | RuntimeException e) {
                // a request the phone cannot answer: the demo step waiting for it reports the failure
            }
        }
    }

    /** Answers a request (to where it came from: the proxy in front). */
    private void serve(SipRequest r, InetSocketAddress from) throws IOException {
        if (r.isMethod("ACK")) {
            received.add(new Received("ACK", r.from().toString(), ""));
            return;
        }
        String key = r.topVia().branch().orElse("") + " " + r.method();
        List<byte[]> again = answered.get(key);
        if (again != null) {
            for (byte[] b : again) {
                socket.send(new DatagramPacket(b, b.length, from));
            }
            return;
        }
        List<byte[]> out = new ArrayList<>();
        String toTag = hex();
        switch (r.method()) {
            case "INVITE" -> {
                out.add(withRecordRoute(r, SipResponse.forRequest(r, 180, "Ringing", toTag)).encode());
                String sdp = "v=0\r\no=" + user + " 1 1 IN IP4 127.0.0.1\r\ns=demo\r\nc=IN IP4 127.0.0.1\r\n"
                        + "t=0 0\r\nm=audio 9 RTP/AVP 0\r\n";
                SipResponse ok = withRecordRoute(r, SipResponse.forRequest(r, 200, "OK", toTag));
                ok = ok.withHeaders(ok.headers().set("Contact", contact()).set("Content-Type", "application/sdp")
                        .set("Content-Length", Integer.toString(sdp.length())));
                out.add(new SipResponse(200, "OK", ok.headers(), sdp.getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                        .encode());
            }
            case "MESSAGE", "BYE", "NOTIFY", "OPTIONS" -> out.add(SipResponse.forRequest(r, 200, "OK", toTag).encode());
            default -> out.add(SipResponse.forRequest(r, 501, "Not Implemented", toTag).encode());
        }
        answered.put(key, out);
        received.add(new Received(r.method(), r.from().toString(), r.bodyText()));
        for (byte[] b : out) {
            socket.send(new DatagramPacket(b, b.length, from));
        }
    }

    /** Copies the INVITE's Record-Route into the response, as a UAS must (RFC 3261 §12.1.1). */
    private static SipResponse withRecordRoute(SipRequest r, SipResponse resp) {
        List<String> rr = r.headers().all("Record-Route");
        return rr.isEmpty() ? resp : resp.withHeaders(resp.headers().setAll("Record-Route", rr));
    }

    private void send(SipRequest r, InetSocketAddress to) throws IOException {
        byte[] b = r.encode();
        socket.send(new DatagramPacket(b, b.length, to));
    }

    private static String hex() {
        return Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
    }

    @Override
    public void close() {
        socket.close();
    }
}
