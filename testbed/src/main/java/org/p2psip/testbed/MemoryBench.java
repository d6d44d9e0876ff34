package org.p2psip.testbed;

import java.io.PrintWriter;
import java.lang.ref.Reference;
import java.net.InetSocketAddress;
import java.util.Random;
import java.util.concurrent.Callable;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayConfig;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.store.ValueStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench memory}: fills one node's {@link ValueStore} (built exactly as {@code OverlayNode} builds it,
 * with the quota raised to fit) with N values of B bytes, each under its own key and as a value arriving
 * from the network would be (fresh arrays, a remote source), and reports the heap used after GC.
 */
@Command(name = "memory", mixinStandardHelpOptions = true,
        description = "Heap used by one node's value store holding N values of B bytes.")
final class MemoryBench implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--values", defaultValue = "1000000", description = "values to store (default ${DEFAULT-VALUE})")
    int values;

    @Option(names = "--size", defaultValue = "200", description = "bytes of data per value (default ${DEFAULT-VALUE})")
    int size;

    @Option(names = "--values-per-key", defaultValue = "1", description = "values under each key (default ${DEFAULT-VALUE})")
    int perKey;

    @Option(names = "--sources", defaultValue = "100", description = "distinct remote senders charged (default ${DEFAULT-VALUE})")
    int sources;

    @Option(names = "--seed", defaultValue = "1")
    long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Random rnd = new Random(seed);
        OverlayConfig cfg = OverlayConfig.defaults().withStoreQuota(Long.MAX_VALUE / 4, Long.MAX_VALUE / 4);
        InetSocketAddress[] from = new InetSocketAddress[Math.max(1, sources)];
        for (int i = 0; i < from.length; i++) {
            from[i] = new InetSocketAddress("127.0.0.1", 10_000 + i);
        }
        long before = Stats.usedHeapAfterGc();
        ValueStore store = new ValueStore(new SecretHashPolicy(), cfg.storeMaxBytes(), cfg.storeMaxBytesPerSource(),
                cfg.maxValuesPerKey(), cfg.maxTtlMillis());
        long now = System.currentTimeMillis();
        long expires = now + 24 * 3_600_000L;
        long t0 = System.nanoTime();
        NodeId key = null;
        int step = Math.max(1, values / 10);
        for (int i = 0; i < values; i++) {
            if (i % perKey == 0) {
                byte[] k = new byte[NodeId.BYTES];
                rnd.nextBytes(k);
                key = NodeId.of(k);
            }
            byte[] data = new byte[size];
            rnd.nextBytes(data);
            DhtValue v = SecretHashPolicy.value(Bytes.wrap(data), Bytes.EMPTY, expires);
            var o = store.put(key, v, from[i % from.length], now);
            if (!o.status().ok()) {
                throw new IllegalStateException("value " + i + " refused: " + o.status() + " " + o.reason());
            }
            if ((i + 1) % step == 0) {
                err.printf("stored %d/%d%n", i + 1, values);
                err.flush();
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        long after = Stats.usedHeapAfterGc();
        Reference.reachabilityFence(store);
        long delta = after - before;
        out.printf("memory bench: %d values of %d bytes, %d per key (%d keys), %d sources; stored in %.1f s%n",
                store.valueCount(), size, perKey, store.keyCount(), from.length, secs);
        out.printf("heap used after GC: before %s MiB, after %s MiB, store %s MiB = %d bytes per value "
                        + "(the store's own quota accounting says %d bytes per value); max heap %s MiB%n",
                Stats.mb(before), Stats.mb(after), Stats.mb(delta), values == 0 ? 0 : delta / values,
                values == 0 ? 0 : store.bytes() / values, Stats.mb(Stats.maxHeap()));
        out.printf("memory values=%d size=%d heap_mb=%s%n", values, size, Stats.mb(after));
        out.flush();
        return 0;
    }
}
