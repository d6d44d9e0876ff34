package org.p2psip.node.api;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The README's "Embedded API" example: two peers on loopback, bob registered at the second, alice's MESSAGE from
 * the first reaches bob's listener, then alice calls bob, holds the call with a re-INVITE and hangs up.
 * {@code EmbeddedExampleTest} runs it in the test suite.
 */
public final class EmbeddedExample {
    private EmbeddedExample() {
    }

    /** Runs the example in temporary data directories; returns the text bob received. */
    public static String run() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        Path dir = Files.createTempDirectory("p2psip-example");
        try (P2pSip first = P2pSip.builder().dataDir(dir.resolve("first")).bindAddress(lo).port(0).sipPort(0)
                .domain("example.net").peer(p -> p.controlPort(0).xmlrpcPort(0).metricsPort(0))
                .build().start().get(60, TimeUnit.SECONDS);
             P2pSip second = P2pSip.builder().dataDir(dir.resolve("second")).bindAddress(lo).port(0).sipPort(0)
                .domain("example.net").peer(p -> p.controlPort(0).xmlrpcPort(0).metricsPort(0))
                .bootstrap(first.peer().overlayAddress())
                .build().start().get(60, TimeUnit.SECONDS)) {
            CompletableFuture<String> received = new CompletableFuture<>();
            second.onIncoming(new IncomingListener() {
                @Override
                public void onMessage(IncomingMessage m) {
                    System.out.println("bob got from " + m.from() + ": " + m.text());
                    received.complete(m.text());
                }

                @Override
                public void onCall(IncomingCall c) { // re-INVITEs are accepted with bob's current SDP
                    c.answer("application/sdp", "v=0\r\ns=bob\r\n");
                }
            });
            second.register("sip:bob@example.net").get(30, TimeUnit.SECONDS);
            System.out.println("bob's contacts: " + first.lookup("sip:bob@example.net").get(30, TimeUnit.SECONDS));
            MessageResult r = first.sendMessage("sip:alice@example.net", "sip:bob@example.net", "text/plain",
                    "hello bob").get(30, TimeUnit.SECONDS);
            System.out.println("MESSAGE answered " + r.status() + " " + r.reason());
            OutgoingCall call = first.call("sip:alice@example.net", "sip:bob@example.net", "application/sdp",
                    "v=0\r\ns=alice\r\n").get(30, TimeUnit.SECONDS);
            SessionDescription held = call.reinvite("application/sdp", "v=0\r\ns=alice\r\na=sendonly\r\n")
                    .get(30, TimeUnit.SECONDS);                       // hold: a re-INVITE, bob's answer
            System.out.println("call " + call.callId() + " held, bob answered " + held.body().strip());
            call.hangup().get(30, TimeUnit.SECONDS);
            return received.get(30, TimeUnit.SECONDS);
        }
    }

    public static void main(String[] args) throws Exception {
        run();
    }
}
