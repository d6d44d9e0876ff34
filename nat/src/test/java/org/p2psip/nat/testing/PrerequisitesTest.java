package org.p2psip.nat.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** A missing prerequisite fails under CI=true and skips elsewhere; this checks whichever applies to this run. */
class PrerequisitesTest {
    @Test
    void missingPrerequisiteFailsUnderCiAndSkipsElsewhere() {
        Class<? extends Throwable> expected = Prerequisites.underCi() ? AssertionFailedError.class : TestAbortedException.class;
        Throwable t = assertThrows(expected, () -> Prerequisites.require(List.of("'no-such-tool' not on PATH")));
        assertTrue(t.getMessage().contains("no-such-tool"), t.getMessage());
        Prerequisites.require(List.of()); // nothing missing: returns
    }
}
