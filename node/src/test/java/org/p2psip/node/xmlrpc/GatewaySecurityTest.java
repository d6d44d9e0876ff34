package org.p2psip.node.xmlrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.node.Peer;
import org.p2psip.node.TestSupport;
import org.p2psip.node.cli.Main;
import picocli.CommandLine;

/** Where the gateway binds and who may use it. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewaySecurityTest {
    @TempDir
    Path tmp;

    private static final String CALL = "<?xml version=\"1.0\"?><methodCall><methodName>get</methodName><params>"
            + "<param><value><base64>AAEC</base64></value></param><param><value><int>1</int></value></param>"
            + "<param><value><base64></base64></value></param><param><value><string>t</string></value></param>"
            + "</params></methodCall>";

    @Test
    void bindsLoopbackByDefault() throws Exception {
        try (Peer p = TestSupport.peer(tmp.resolve("a")).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            assertTrue(p.xmlrpcAddress().getAddress().isLoopbackAddress(), p.xmlrpcAddress().toString());
        }
        try (Peer p = TestSupport.peer(tmp.resolve("b")).xmlrpcPort(-1).build()) {
            p.start().get(20, TimeUnit.SECONDS);
            assertEquals(null, p.xmlrpcAddress());
        }
    }

    @Test
    void nonLoopbackWithoutTokenIsRefused() throws Exception {
        try (Peer p = TestSupport.peer(tmp.resolve("c")).xmlrpcBind(InetAddress.getByName("0.0.0.0")).build()) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> p.start().get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("--xmlrpc-token"), e.getCause().getMessage());
        }
        CommandLine cl = Main.newCommandLine();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        cl.setErr(new java.io.PrintWriter(new PrintStream(err), true));
        int code = cl.execute("run", "--data-dir", tmp.resolve("d").toString(), "--bind", "127.0.0.1", "--port", "0",
                "--control-port", "-1", "--xmlrpc-bind", "0.0.0.0");
        assertEquals(2, code);
        assertTrue(err.toString().contains("--xmlrpc-token"), err.toString());
    }

    @Test
    void aTokenIsCheckedOnEveryRequest() throws Exception {
        try (Peer p = TestSupport.peer(tmp.resolve("e")).xmlrpcBind(InetAddress.getByName("0.0.0.0"))
                .xmlrpcToken("s3cret-token").build()) {
            p.start().get(20, TimeUnit.SECONDS);
            String base = "http://127.0.0.1:" + p.xmlrpcAddress().getPort() + "/RPC2";
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> none = http.send(HttpRequest.newBuilder(URI.create(base))
                    .POST(HttpRequest.BodyPublishers.ofString(CALL)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, none.statusCode());
            HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(URI.create(base))
                    .header("Authorization", "Bearer nope")
                    .POST(HttpRequest.BodyPublishers.ofString(CALL)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(401, wrong.statusCode());
            HttpResponse<String> bearer = http.send(HttpRequest.newBuilder(URI.create(base))
                    .header("Authorization", "Bearer s3cret-token")
                    .POST(HttpRequest.BodyPublishers.ofString(CALL)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, bearer.statusCode());
            assertTrue(bearer.body().contains("<methodResponse><params>"), bearer.body());
            HttpResponse<String> query = http.send(HttpRequest.newBuilder(URI.create(base + "?token=s3cret-token"))
                    .POST(HttpRequest.BodyPublishers.ofString(CALL)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, query.statusCode());
        }
    }
}
