package org.p2psip.testbed.docker;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/** Under CI a missing Docker fails the scenarios; elsewhere it skips them; with Docker present nothing happens. */
class DockerPrerequisitesTest {
    private static final List<String> MISSING = List.of("no Docker daemon answers");

    @Test
    void underCiAMissingDockerFails() {
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> DockerPrerequisites.require(MISSING, true));
        assertTrue(e.getMessage().contains("no Docker daemon answers") && e.getMessage().contains("CI=true"),
                e.getMessage());
    }

    @Test
    void elsewhereAMissingDockerSkips() {
        assertThrows(TestAbortedException.class, () -> DockerPrerequisites.require(MISSING, false));
    }

    @Test
    void nothingMissingPasses() {
        assertDoesNotThrow(() -> DockerPrerequisites.require(List.of(), true));
    }
}
