package org.p2psip.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import org.p2psip.testing.Prerequisites;

/** Runs the bench commands in-process at small sizes and checks their final lines. */
class BenchCommandsTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = TestbedMain.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        assertEquals(0, code, () -> "exit code; stderr:\n" + err);
        String[] lines = out.toString().strip().split("\\R");
        assertTrue(lines.length > 0, "no output");
        return lines;
    }

    /** sipp (Debian sip-tester) on the PATH; required under CI=true (the test fails there without it). */
    private static void sippInstalled() {
        Prerequisites.requireTools("sipp");
    }

    @Test
    void sipBenchRegistersAndCallsWithoutFailures() {
        sippInstalled();
        String[] lines = run("bench", "sip", "--users", "40", "--start-rate", "20", "--max-rate", "40",
                "--step-seconds", "2", "--calls", "20", "--call-rate", "20", "--kamailio-start-rate", "20",
                "--kamailio-max-rate", "40", "--jit-warmup-seconds", "1", "--jit-warmup-rate", "20",
                "--sustain-seconds", "3");
        String last = lines[lines.length - 1];
        assertTrue(java.util.Arrays.stream(lines).anyMatch(l -> l.matches(
                "ours, refresh policy off \\(refresh chains\\): register_per_s=\\d+ stored_records_per_s=\\d+ .*")),
                String.join("\n", lines));
        // peer 1 stored its timed REGISTERs as tokens of the records' refresh chains (a user whose warm-up failed
        // on a loaded machine signs its record in a timed round)
        Matcher stored = java.util.Arrays.stream(lines)
                .map(Pattern.compile("peer 1 stored records over those rounds: (\\d+) signed, (\\d+) refresh-chain tokens")::matcher)
                .filter(Matcher::matches).findFirst().orElseThrow(() -> new AssertionError(String.join("\n", lines)));
        assertTrue(Long.parseLong(stored.group(2)) > Long.parseLong(stored.group(1)), stored.group());
        assertTrue(java.util.Arrays.stream(lines).anyMatch(l -> l.startsWith("REGISTER (refresh policy off) sustained: ")
                && l.contains(" 0 failed")), String.join("\n", lines));
        if (SipBench.findExecutable("kamailio") != null || SipBench.findExecutable("/usr/sbin/kamailio") != null) {
            // Kamailio installed: its side-by-side line must report a clean reference rate
            assertTrue(java.util.Arrays.stream(lines).anyMatch(l -> l.matches(
                    "kamailio register_per_s=[1-9]\\d* register_failed=0 \\(no auth\\), with digest register_per_s=[1-9]\\d*"
                            + " register_failed=0")), String.join("\n", lines));
        }
        Matcher m = Pattern.compile("register_per_s=(\\d+) register_failed=(\\d+) calls_per_s=(\\d+) calls_failed=(\\d+)")
                .matcher(last);
        assertTrue(m.matches(), "last line: " + last);
        assertTrue(Integer.parseInt(m.group(1)) > 0, last);
        assertEquals("0", m.group(2), last);
        assertTrue(Integer.parseInt(m.group(3)) > 0, last);
        assertEquals("0", m.group(4), last);
    }

    @Test
    void overlayBenchFindsEveryValue(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path timeline = dir.resolve("ops.csv");
        String[] lines = run("bench", "overlay", "--nodes", "30", "--ops", "20", "--warmup-max", "300",
                "--timeline", timeline.toString());
        String last = lines[lines.length - 1];
        Matcher m = Pattern.compile("nodes=30 put_ms p50=(\\d+\\.\\d{2}) p99=(\\d+\\.\\d{2}) "
                + "get_ms p50=(\\d+\\.\\d{2}) p99=(\\d+\\.\\d{2}) found=(\\d+)/20").matcher(last);
        assertTrue(m.matches(), "last line: " + last);
        assertEquals("20", m.group(5), last);
        assertTrue(Double.parseDouble(m.group(1)) <= Double.parseDouble(m.group(2)), last);
        assertTrue(Double.parseDouble(m.group(3)) <= Double.parseDouble(m.group(4)), last);
        // the timeline: a header and one line per timed operation, each timed to completion before its waiter woke
        java.util.List<String> csv = java.nio.file.Files.readAllLines(timeline);
        assertEquals(41, csv.size(), String.join("\n", csv));
        String[] header = csv.get(0).split(",");
        assertEquals("ms", header[3]);
        assertEquals("woke_ms", header[4]);
        for (String row : csv.subList(1, csv.size())) {
            String[] f = row.split(",", -1);
            assertEquals(header.length, f.length, row);
            assertTrue(f[0].equals("put") || f[0].equals("get"), row);
            double ms = Double.parseDouble(f[3]);
            assertTrue(ms > 0 && ms <= Double.parseDouble(f[4]), row);
        }
        assertTrue(java.util.Arrays.stream(lines).anyMatch(l -> l.startsWith("timed: ") && l.contains("KiB per operation")),
                String.join("\n", lines));
    }

    @Test
    void simBenchLooksUpTheTrueClosestNodes() {
        String[] lines = run("bench", "sim", "--nodes", "500", "--ops", "100", "--settle-seconds", "10");
        String last = lines[lines.length - 1];
        Matcher m = Pattern.compile("sim nodes=500 hops p50=(\\d+) p99=(\\d+) lookup_correct=(\\d+\\.\\d{2})% "
                + "get_success=(\\d+\\.\\d{2})% churn=off").matcher(last);
        assertTrue(m.matches(), "last line: " + last);
        assertTrue(Integer.parseInt(m.group(1)) <= 3, "median hops: " + last);
        assertTrue(Integer.parseInt(m.group(1)) <= Integer.parseInt(m.group(2)), last);
        assertTrue(Double.parseDouble(m.group(3)) >= 99.0, "lookup correctness: " + last);
        assertEquals("100.00", m.group(4), "get success: " + last);
    }

    @Test
    void electionBenchLosesNoRecord() {
        String[] lines = run("bench", "election", "--peers", "5", "--runs", "1", "--records", "5", "--warmup-runs", "0");
        String last = lines[lines.length - 1];
        Matcher m = Pattern.compile("election peers=5 runs=1 converge_ms p50=(\\d+\\.\\d{2}) max=\\d+\\.\\d{2} "
                + "failover_ms p50=(\\d+\\.\\d{2}) max=\\d+\\.\\d{2} refill_ms p50=\\d+\\.\\d{2} "
                + "max=\\d+\\.\\d{2} records_lost=(\\d+)").matcher(last);
        assertTrue(m.matches(), "last line: " + last);
        assertEquals("0", m.group(3), "records lost: " + last);
    }

    @Test
    void memoryBenchReportsTheHeap() {
        String[] lines = run("bench", "memory", "--values", "20000", "--size", "200");
        String last = lines[lines.length - 1];
        assertTrue(last.matches("memory values=20000 size=200 heap_mb=\\d+\\.\\d"), "last line: " + last);
    }

    @Test
    void percentilesAreNearestRank() {
        double[] s = {5, 1, 4, 2, 3, 6, 7, 8, 9, 10};
        assertEquals(5, Stats.percentile(s, 50));
        assertEquals(10, Stats.percentile(s, 99));
        assertEquals(1, Stats.percentile(s, 1));
        assertEquals(9, Stats.percentile(s, 90));
    }
}
