package org.p2psip.storage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;

/** Child JVM for {@link RecordStoreTest}: writes values until killed, printing "ACK i" once put i is acknowledged. */
public final class CrashWriter {
    private CrashWriter() {
    }

    static DhtValue value(int i) {
        byte[] data = new byte[300];
        for (int j = 0; j < data.length; j++) {
            data[j] = (byte) (i * 31 + j);
        }
        return new DhtValue(Bytes.wrap(new byte[] {(byte) (i % 7)}), Bytes.utf8("n" + i), Bytes.wrap(data), Long.MAX_VALUE / 4);
    }

    static NodeId key(int i) {
        return NodeId.ofName("sip:user" + (i % 97) + "@example.net");
    }

    /**
     * args: file, mode. Modes: {@code sync} (one thread, {@link RecordStore#put}), {@code threads} (4 threads
     * sharing group commits), {@code async} (one thread, {@link RecordStore#putAsync}, up to 256 in flight, the ACK
     * printed when the future completes).
     */
    public static void main(String[] args) throws Exception {
        String mode = args.length > 1 ? args[1] : "sync";
        if (mode.equals("fill")) {
            fill(Path.of(args[0]), Integer.parseInt(args[2]));
            return;
        }
        RecordStore.Options o = new RecordStore.Options(1L << 30, 1L << 30, 1_000_000, Long.MAX_VALUE / 2, true, 4);
        try (RecordStore s = RecordStore.open(Path.of(args[0]), o, RecordStoreTest.ACCEPT_ALL)) {
            System.out.println("READY");
            System.out.flush();
            switch (mode) {
                case "sync" -> writeFrom(s, 0, 1);
                case "threads" -> {
                    List<Thread> ts = new ArrayList<>();
                    for (int t = 0; t < 4; t++) {
                        int first = t;
                        Thread w = new Thread(() -> writeFrom(s, first, 4));
                        w.start();
                        ts.add(w);
                    }
                    for (Thread t : ts) {
                        t.join();
                    }
                }
                case "async" -> {
                    Semaphore window = new Semaphore(256);
                    for (int i = 0; ; i++) {
                        window.acquire();
                        int n = i;
                        s.putAsync(key(i), value(i), System.currentTimeMillis()).thenAccept(out -> {
                            ack(n, out.status());
                            window.release();
                        });
                    }
                }
                default -> throw new IllegalArgumentException("mode: sync, threads or async");
            }
        }
    }

    /**
     * Writes {@code n} values of 4 KiB (far more than this JVM's heap when run with a small -Xmx), reopens the store
     * and checks every value is there: values live on disk, not on the heap. Prints "FILLED count".
     */
    private static void fill(Path file, int n) throws Exception {
        RecordStore.Options o = new RecordStore.Options(1L << 34, 1L << 34, 1_000_000, Long.MAX_VALUE / 2, true, 1);
        try (RecordStore s = RecordStore.open(file, o, RecordStoreTest.ACCEPT_ALL)) {
            Semaphore window = new Semaphore(256);
            java.util.concurrent.atomic.AtomicInteger failed = new java.util.concurrent.atomic.AtomicInteger();
            for (int i = 0; i < n; i++) {
                window.acquire();
                s.putAsync(key(i), big(i), System.currentTimeMillis()).thenAccept(out -> {
                    if (out.status() != Status.OK) {
                        failed.incrementAndGet();
                    }
                    window.release();
                });
            }
            window.acquire(256);
            if (failed.get() > 0) {
                System.out.println("FAIL " + failed.get() + " puts");
                return;
            }
        }
        try (RecordStore s = RecordStore.open(file, o, RecordStoreTest.ACCEPT_ALL)) {
            for (int i = 0; i < n; i += 97) {
                if (!s.get(key(i), System.currentTimeMillis()).contains(big(i))) {
                    System.out.println("FAIL missing " + i);
                    return;
                }
            }
            System.out.println("FILLED " + s.valueCount() + " " + s.bytes());
        }
    }

    static DhtValue big(int i) {
        byte[] data = new byte[4096];
        new java.util.Random(i).nextBytes(data);
        return new DhtValue(Bytes.wrap(new byte[] {(byte) (i % 7)}), Bytes.utf8("b" + i), Bytes.wrap(data), Long.MAX_VALUE / 4);
    }

    private static void writeFrom(RecordStore s, int first, int step) {
        for (int i = first; ; i += step) {
            ack(i, s.put(key(i), value(i), System.currentTimeMillis()).status());
        }
    }

    private static void ack(int i, Status status) {
        // one println per line: System.out is synchronized, so lines of several threads do not mix
        System.out.println(status == Status.OK ? "ACK " + i : "FAIL " + i + " " + status);
    }
}
