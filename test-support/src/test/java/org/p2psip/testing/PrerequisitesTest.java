package org.p2psip.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** A missing tool fails a test under CI=true and skips them elsewhere. */
class PrerequisitesTest {
    static final List<String> MISSING = List.of("'no-such-tool' not on PATH");

    @Test
    void missingToolFailsUnderCi() {
        Throwable t = assertThrows(AssertionFailedError.class, () -> Prerequisites.require(MISSING, true));
        assertTrue(t.getMessage().contains("CI=true"), t.getMessage());
    }

    @Test
    void missingToolSkipsElsewhere() {
        assertThrows(TestAbortedException.class, () -> Prerequisites.require(MISSING, false));
    }

    @Test
    void nothingMissingPasses() {
        Prerequisites.require(List.of(), true);
        assertTrue(Prerequisites.which("sh") != null);
    }
}
