package org.p2psip.sip.registrar;

import java.util.concurrent.atomic.AtomicLong;

/** Lets tests in other packages use {@link DhtContactStoreTest.MemoryDht}. */
public final class DhtContactStoreTestAccess {
    private DhtContactStoreTestAccess() {
    }

    /** An in-memory DHT that applies SecretHashPolicy. */
    public static final class Memory extends DhtContactStoreTest.MemoryDhtBase {
        Memory(AtomicLong now) {
            super(now);
        }
    }

    public static Memory memory(AtomicLong now) {
        return new Memory(now);
    }
}
