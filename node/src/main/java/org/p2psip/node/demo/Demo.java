package org.p2psip.node.demo;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.p2psip.node.HostPort;
import org.p2psip.node.Peer;
import org.p2psip.node.accounts.DigestAccounts;
import org.p2psip.node.sip.SipOptions;
import org.p2psip.overlay.OverlayConfig;

/**
 * {@code p2psip demo}: in one process, a 3-peer overlay on 127.0.0.1 (free ports, temporary data directories), SIP
 * on peers 1 and 2, two users (alice at peer 1, bob at peer 2) whose phones are {@link DemoPhone}s speaking real
 * SIP over UDP; alice sends bob a MESSAGE and calls him (INVITE, 180, 200, ACK, BYE), all through the overlay. Each
 * step is printed; the first that fails ends the demo with its reason.
 */
public final class Demo {
    /** The SIP domain of the demo's users. */
    public static final String DOMAIN = "demo.p2psip";
    private static final long STEP_MS = 20_000;

    private final PrintWriter out;
    private int step;

    public Demo(PrintWriter out) {
        this.out = out;
    }

    /** A step that failed, with what happened. */
    public static final class StepFailed extends Exception {
        StepFailed(String message) {
            super(message);
        }
    }

    /** Runs the demo; true when every step succeeded. */
    public boolean run() {
        Path dir = null;
        List<Peer> peers = new ArrayList<>();
        List<DemoPhone> phones = new ArrayList<>();
        try {
            dir = Files.createTempDirectory("p2psip-demo");
            runSteps(dir, peers, phones);
            say("demo completed: MESSAGE delivered and call set up and torn down through the overlay");
            return true;
        } catch (StepFailed e) {
            out.println("FAILED at step " + step + ": " + e.getMessage());
            return false;
        } catch (Exception e) {
            out.println("FAILED at step " + step + ": " + e);
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return false;
        } finally {
            phones.forEach(DemoPhone::close);
            for (int i = peers.size() - 1; i >= 0; i--) {
                peers.get(i).close();
            }
            deleteQuietly(dir);
            out.flush();
        }
    }

    private void runSteps(Path dir, List<Peer> peers, List<DemoPhone> phones) throws Exception {
        String alicePw = secret();
        String bobPw = secret();
        begin("starting 3 peers on 127.0.0.1 (SIP on peers 1 and 2, domain " + DOMAIN + ")");
        for (int i = 1; i <= 3; i++) {
            Path d = dir.resolve("peer" + i);
            Files.createDirectories(d);
            if (i == 1) {
                DigestAccounts.put(d.resolve(DigestAccounts.FILE_NAME), DigestAccounts.account("alice", DOMAIN,
                        alicePw.toCharArray()));
            } else if (i == 2) {
                DigestAccounts.put(d.resolve(DigestAccounts.FILE_NAME), DigestAccounts.account("bob", DOMAIN,
                        bobPw.toCharArray()));
            }
            Peer.Builder b = Peer.builder().dataDir(d).bindAddress(java.net.InetAddress.getLoopbackAddress()).port(0)
                    .controlPort(-1).xmlrpcPort(-1).metricsPort(-1).persistent(false)
                    // all demo peers share 127.0.0.1: per-address rate limits would count them as one
                    .config(OverlayConfig.defaults().withRateLimit(0, OverlayConfig.SourceKey.ENDPOINT))
                    .sip(i <= 2 ? new SipOptions(0, List.of(DOMAIN), null, null) : SipOptions.disabled());
            if (!peers.isEmpty()) {
                b.bootstrap(peers.get(0).overlayAddress());
            }
            Peer p = b.build();
            peers.add(p);
            try {
                p.start().get(STEP_MS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new StepFailed("peer " + i + " did not join within " + STEP_MS / 1000 + " s");
            } catch (java.util.concurrent.ExecutionException e) {
                throw new StepFailed("peer " + i + " did not start: " + e.getCause().getMessage());
            }
            say("peer " + i + " joined: overlay " + HostPort.format(p.overlayAddress())
                    + (p.sip() != null ? ", SIP " + HostPort.format(p.sip().localAddress()) : ""));
        }
        InetSocketAddress sip1 = peers.get(0).sip().localAddress();
        InetSocketAddress sip2 = peers.get(1).sip().localAddress();
        DemoPhone alice = new DemoPhone("alice", DOMAIN, alicePw, sip1);
        phones.add(alice);
        DemoPhone bob = new DemoPhone("bob", DOMAIN, bobPw, sip2);
        phones.add(bob);

        begin("alice registers at peer 1 (digest, then a signed contact record in the DHT)");
        expect(200, alice.register(STEP_MS), "REGISTER alice");
        say("200 OK");
        begin("bob registers at peer 2");
        expect(200, bob.register(STEP_MS), "REGISTER bob");
        say("200 OK");

        begin("alice sends bob a MESSAGE through peer 1 (DHT lookup of bob, forwarded to peer 2, then to bob)");
        String text = "Hello Bob, this is Alice over p2psip";
        expect(200, alice.message(bob.aor(), text, STEP_MS), "MESSAGE alice -> bob");
        boolean got = bob.received().stream().anyMatch(r -> r.method().equals("MESSAGE") && r.body().equals(text));
        if (!got) {
            throw new StepFailed("the MESSAGE was answered 200 but bob's phone did not receive its text");
        }
        say("200 OK; bob's phone received \"" + text + "\"");

        begin("alice calls bob (INVITE through peer 1 and peer 2)");
        DemoPhone.CallResult call = alice.invite(bob.aor(), STEP_MS, status -> say("  " + status + " received"));
        if (call.call().isEmpty()) {
            throw new StepFailed("the INVITE got " + call.status() + " instead of 200");
        }
        say("200 OK; ACK sent along the route set " + call.call().get().routeSet());
        waitFor(() -> bob.received().stream().anyMatch(r -> r.method().equals("ACK")), "bob's phone got the ACK");
        say("bob's phone got the ACK: the call is up");

        begin("alice hangs up (BYE along the route set)");
        expect(200, alice.bye(call.call().get(), STEP_MS), "BYE alice -> bob");
        if (bob.received().stream().noneMatch(r -> r.method().equals("BYE"))) {
            throw new StepFailed("the BYE was answered 200 but bob's phone did not receive it");
        }
        say("200 OK; the call is over");
    }

    private void begin(String what) {
        step++;
        out.println("[" + step + "] " + what);
        out.flush();
    }

    private void say(String what) {
        out.println("    " + what);
        out.flush();
    }

    private static void expect(int want, int got, String what) throws StepFailed {
        if (got != want) {
            throw new StepFailed(what + " got " + got + " instead of " + want);
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier check, String what)
            throws StepFailed, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STEP_MS);
        while (!check.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new StepFailed("not within " + STEP_MS / 1000 + " s: " + what);
            }
            Thread.sleep(50);
        }
    }

    private static String secret() {
        byte[] b = new byte[12];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: the OS cleans it eventually
        }
    }
}
