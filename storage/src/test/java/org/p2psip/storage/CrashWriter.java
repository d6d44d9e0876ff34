package org.p2psip.storage;

import java.nio.file.Path;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;

/** Child JVM for {@link RecordStoreTest}: writes values until killed, printing "ACK i" once put i returned. */
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

    public static void main(String[] args) throws Exception {
        RecordStore.Options o = new RecordStore.Options(1L << 30, 1L << 30, 1_000_000, Long.MAX_VALUE / 2, true, 4);
        try (RecordStore s = RecordStore.open(Path.of(args[0]), o, RecordStoreTest.ACCEPT_ALL)) {
            System.out.println("READY");
            System.out.flush();
            for (int i = 0; ; i++) {
                if (s.put(key(i), value(i), System.currentTimeMillis()).status() != Status.OK) {
                    System.out.println("FAIL " + i);
                    System.out.flush();
                    return;
                }
                System.out.println("ACK " + i);
                System.out.flush();
            }
        }
    }
}
