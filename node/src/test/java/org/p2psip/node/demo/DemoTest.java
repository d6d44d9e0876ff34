package org.p2psip.node.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.p2psip.node.cli.Main;
import picocli.CommandLine;

/** {@code p2psip demo} through the CLI: every step succeeds and it exits 0. */
@Timeout(180)
class DemoTest {
    @Test
    void demoRegistersMessagesAndCallsThroughTheOverlay() {
        CommandLine cl = Main.newCommandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("demo");
        String text = out.toString();
        System.out.println(text); // the demo's step log, for the test report
        assertEquals(0, code, text + err);
        assertTrue(text.contains("[2] alice registers") && text.contains("bob's phone received \"Hello Bob"), text);
        assertTrue(text.contains("180 received") && text.contains("bob's phone got the ACK"), text);
        assertTrue(text.contains("demo completed"), text);
        assertTrue(!text.contains("FAILED"), text);
    }
}
