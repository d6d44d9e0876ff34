package org.p2psip.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When {@code bench sip} relaunches itself in a JVM with a SIP server's options, and with which command. */
class ServerJvmTest {
    private static Optional<List<String>> relaunch(List<String> args, List<String> jvmArgs, String env, boolean again) {
        return ServerJvm.relaunch(args.toArray(String[]::new), jvmArgs, "/usr/bin/java", "t.jar", env, again);
    }

    @Test
    void benchSipRunsInAJvmWithAShortPauseGoalKeepingTheGivenOptions() {
        List<String> cmd = relaunch(List.of("bench", "sip", "--users", "40"), List.of("-Xlog:gc:file=g.log"), null, false)
                .orElseThrow();
        assertEquals(List.of("/usr/bin/java", "-Xlog:gc:file=g.log", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-Dp2psip.relaunched=true", "-cp", "t.jar", TestbedMain.class.getName(), "bench", "sip", "--users", "40"),
                cmd);
    }

    @Test
    void otherwiseTheCommandRunsInThisJvm() {
        assertTrue(relaunch(List.of("bench", "overlay"), List.of(), null, false).isEmpty(), "other commands");
        assertTrue(relaunch(List.of("bench", "sip", "--help"), List.of(), null, false).isEmpty(), "help");
        assertTrue(relaunch(List.of("bench", "sip"), List.of(), null, true).isEmpty(), "relaunched already");
        assertTrue(relaunch(List.of("bench", "sip"), List.of(), "inherit", false).isEmpty(), "asked not to");
        assertTrue(relaunch(List.of("bench", "sip"), List.of("-XX:+UseZGC"), null, false).isEmpty(), "a collector chosen");
        assertTrue(relaunch(List.of("bench", "sip"), List.of("-XX:MaxGCPauseMillis=50"), null, false).isEmpty(),
                "a pause goal chosen");
        assertTrue(relaunch(List.of(), List.of(), null, false).isEmpty());
    }
}
