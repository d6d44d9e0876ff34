package org.p2psip.nat.lab;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.p2psip.testing.Prerequisites;

/**
 * A lab run killed before its teardown leaves namespaces, processes inside them (a namespace lives on while a
 * process is in it) and temporary directories; the next lab removes all three. Needs root and iproute2.
 */
class NatLabLeftoversTest {
    @Test
    void theNextLabRemovesWhatAKilledRunLeft() throws Exception {
        Prerequisites.require(NatLab.prerequisiteProblems());
        long deadPid = 4_194_000L + (ProcessHandle.current().pid() % 200);
        while (ProcessHandle.of(deadPid).isPresent()) {
            deadPid++;
        }
        String prefix = NatLab.NAME_ROOT + "-" + deadPid + "-beef";
        String ns = prefix + "-s0r-killed";
        NatLab.Shell.run(List.of("ip", "netns", "add", ns));
        Process sleeper = new ProcessBuilder("ip", "netns", "exec", ns, "sleep", "120").start();
        Path dir = Files.createTempDirectory(prefix + "-upnp0-");
        Files.writeString(dir.resolve("miniupnpd.conf"), "ext_ifname=wan0\n");
        try {
            assertTrue(NatLab.listNamespaces().contains(ns));
            NatLab.removeLeftovers();
            assertFalse(NatLab.listNamespaces().contains(ns), "namespace of the dead run deleted");
            assertTrue(sleeper.waitFor(10, TimeUnit.SECONDS), "the process left in it was killed");
            assertFalse(Files.exists(dir), "its temporary directory deleted");
        } finally {
            sleeper.destroyForcibly();
            try {
                NatLab.Shell.run(List.of("ip", "netns", "del", ns));
            } catch (LabException alreadyGone) {
                // expected
            }
        }
    }
}
