package org.p2psip.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The README's embedded-API example runs and bob receives alice's MESSAGE. */
@Timeout(120)
class EmbeddedExampleTest {
    @Test
    void theReadmeExampleDeliversTheMessage() throws Exception {
        assertEquals("hello bob", EmbeddedExample.run());
    }
}
