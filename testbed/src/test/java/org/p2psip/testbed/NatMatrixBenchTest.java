package org.p2psip.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.nat.lab.NatLab;
import picocli.CommandLine;
import org.p2psip.testing.Prerequisites;

/**
 * {@code bench nat-matrix} on one pair (two port-restricted NATs, hole punched) in the kernel NAT lab, with 10 ms of
 * delay on every segment. Needs root, iproute2 and iptables, and (for the delay where the kernel has no sch_netem)
 * gcc and libnetfilter-queue-dev: under CI=true their absence fails the test, elsewhere it is skipped.
 */
@Timeout(300)
class NatMatrixBenchTest {
    @Test
    void onePairPrintsItsRowAndTheSummary() {
        List<String> problems = new ArrayList<>(NatLab.prerequisiteProblems());
        problems.addAll(NatLab.delayFallbackPrerequisiteProblems());
        Prerequisites.require(problems);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = TestbedMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("bench", "nat-matrix", "--pair", "port_restricted:port_restricted", "--links", "3",
                "--delay-ms", "10");
        String text = out.toString();
        System.out.println(text + err);
        assertEquals(0, code, "exit code; stderr:\n" + err);
        String[] lines = text.strip().split("\\R");
        assertTrue(lines[1].matches("PORT_RESTRICTED +PORT_RESTRICTED +direct +\\S+ +\\d+ +\\d+ +\\d+ +\\d+ +\\d+ 0"),
                "row: " + lines[1]);
        String phases = text.lines().filter(l -> l.startsWith("all direct links")).findFirst().orElse("");
        assertTrue(phases.matches("all direct links +(-?\\d+ +){7}2"), "the phases of the 2 warm links: " + phases);
        assertTrue(lines[lines.length - 1].startsWith("connected 1/1 pairs; direct links (warm): setup-to-authenticated p50 "),
                "summary: " + lines[lines.length - 1]);
        assertTrue(lines[lines.length - 1].contains("10 ms one-way delay on every segment"),
                "the delay was applied: " + lines[lines.length - 1]);
    }
}
