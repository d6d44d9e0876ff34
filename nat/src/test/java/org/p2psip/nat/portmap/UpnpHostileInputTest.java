package org.p2psip.nat.portmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * UPnP replies are untrusted: SSDP answers, device descriptions and SOAP answers that are malformed, oversized or
 * hostile XML (entity bombs, external entities, deep nesting) give clear errors. SOAP runs over real HTTP on
 * 127.0.0.1 (the JDK's HttpServer playing a misbehaving router).
 */
class UpnpHostileInputTest {
    static final String WANIP2 = "urn:schemas-upnp-org:service:WANIPConnection:2";
    static final InetAddress ROUTER = NatPmpCodec.ipv4(new byte[] {(byte) 192, 0, 2, 1});
    static final URI LOCATION = URI.create("http://192.0.2.1:5000/rootDesc.xml");

    HttpServer http;
    final AtomicReference<String> body = new AtomicReference<>("");
    final AtomicReference<Integer> status = new AtomicReference<>(200);

    @BeforeEach
    void startHttp() throws Exception {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", exchange -> {
            exchange.getRequestBody().readAllBytes();
            byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status.get(), b.length);
            exchange.getResponseBody().write(b);
            exchange.close();
        });
        http.start();
    }

    @AfterEach
    void stopHttp() {
        http.stop(0);
    }

    static String description(String services) {
        return "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device>"
                + "<deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><deviceList><device>"
                + "<deviceList><device><serviceList>" + services + "</serviceList></device></deviceList>"
                + "</device></deviceList></device></root>";
    }

    static String service(String type, String control) {
        return "<service><serviceType>" + type + "</serviceType><controlURL>" + control + "</controlURL></service>";
    }

    @Test
    void theWanConnectionServiceIsFoundAndItsControlUrlStaysOnTheRouter() throws Exception {
        String both = service("urn:schemas-upnp-org:service:WANPPPConnection:1", "/ctl/PPP")
                + service("urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1", "/ctl/CmnIfCfg")
                + service(WANIP2, "/ctl/IPConn");
        IgdDescription d = IgdDescription.parse(bytes(description(both)), LOCATION, ROUTER);
        assertEquals(WANIP2, d.serviceType());
        assertEquals(2, d.version());
        assertEquals(URI.create("http://192.0.2.1:5000/ctl/IPConn"), d.controlUrl());
        IgdDescription ppp = IgdDescription.parse(bytes(description(service(
                "urn:schemas-upnp-org:service:WANPPPConnection:1", "ctl/PPP"))), LOCATION, ROUTER);
        assertEquals(URI.create("http://192.0.2.1:5000/ctl/PPP"), ppp.controlUrl());

        PortMappingException none = assertThrows(PortMappingException.class, () -> IgdDescription.parse(
                bytes(description(service("urn:schemas-upnp-org:service:Layer3Forwarding:1", "/l3f"))), LOCATION,
                ROUTER));
        assertTrue(none.getMessage().contains("not an Internet Gateway Device"), none.getMessage());
        malformed("points to another host", () -> IgdDescription.parse(bytes(description(service(WANIP2,
                "http://198.51.100.7/steal"))), LOCATION, ROUTER));
        malformed("not an http URL", () -> IgdDescription.parse(bytes(description(service(WANIP2,
                "file:///etc/passwd"))), LOCATION, ROUTER));
        malformed("missing or oversized controlURL", () -> IgdDescription.parse(bytes(description(service(WANIP2,
                "/" + "x".repeat(600)))), LOCATION, ROUTER));
    }

    @Test
    void hostileXmlIsRefused() {
        String bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol1 \"&lol;&lol;&lol;"
                + "&lol;&lol;&lol;&lol;&lol;&lol;&lol;\"><!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"
                + "&lol1;&lol1;&lol1;\">]><root><device><serviceType>&lol2;</serviceType></device></root>";
        malformed("DOCTYPE", () -> IgdDescription.parse(bytes(bomb), LOCATION, ROUTER));
        String xxe = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><root>&x;</root>";
        malformed("DOCTYPE", () -> IgdDescription.parse(bytes(xxe), LOCATION, ROUTER));
        String deep = "<a>".repeat(200) + "</a>".repeat(200);
        malformed("not acceptable XML", () -> IgdDescription.parse(bytes(deep), LOCATION, ROUTER));
        malformed("exceeds the limit", () -> IgdDescription.parse(new byte[RouterXml.MAX_BYTES + 1], LOCATION,
                ROUTER));
        malformed("not acceptable XML", () -> IgdDescription.parse(bytes("<root><device>"), LOCATION, ROUTER));
        malformed("not acceptable XML", () -> IgdDescription.parse(new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1},
                LOCATION, ROUTER));
    }

    @Test
    void ssdpAnswersAreChecked() throws Exception {
        byte[] ok = bytes("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:"
                + "InternetGatewayDevice:2\r\nlocation: http://192.0.2.1:5000/rootDesc.xml\r\n\r\n");
        assertEquals(LOCATION, Ssdp.parseAnswer(ok, ok.length, ROUTER));
        byte[] notify = bytes("NOTIFY * HTTP/1.1\r\nLOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n\r\n");
        malformed("HTTP 200 status line", () -> Ssdp.parseAnswer(notify, notify.length, ROUTER));
        byte[] noLocation = bytes("HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\n\r\n");
        malformed("no LOCATION", () -> Ssdp.parseAnswer(noLocation, noLocation.length, ROUTER));
        byte[] elsewhere = bytes("HTTP/1.1 200 OK\r\nLOCATION: http://203.0.113.9/x.xml\r\n\r\n");
        malformed("points to another host", () -> Ssdp.parseAnswer(elsewhere, elsewhere.length, ROUTER));
        byte[] https = bytes("HTTP/1.1 200 OK\r\nLOCATION: ftp://192.0.2.1/x.xml\r\n\r\n");
        malformed("not an http URL", () -> Ssdp.parseAnswer(https, https.length, ROUTER));
        byte[] junk = bytes("HTTP/1.1 200 OK\r\nLOCATION: http://[::1\r\n\r\n");
        malformed("not a URL", () -> Ssdp.parseAnswer(junk, junk.length, ROUTER));
        malformed("larger than 2048", () -> Ssdp.parseAnswer(new byte[3000], 3000, ROUTER));
        assertEquals("M-SEARCH * HTTP/1.1", new String(Ssdp.search(Ssdp.TARGETS[0], 2), StandardCharsets.US_ASCII)
                .split("\r\n")[0]);
    }

    @Test
    void soapAnswersFaultsAndBombsOverHttp() throws Exception {
        URI control = URI.create("http://127.0.0.1:" + http.getAddress().getPort() + "/ctl/IPConn");
        Duration t = Duration.ofSeconds(5);
        body.set("<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                + "<u:GetExternalIPAddressResponse xmlns:u=\"" + WANIP2 + "\"><NewExternalIPAddress>203.0.113.101"
                + "</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>");
        assertEquals(Map.of("NewExternalIPAddress", "203.0.113.101"),
                SoapCall.call(control, WANIP2, "GetExternalIPAddress", Map.of(), t));

        status.set(500);
        body.set("<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
                + "<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError "
                + "xmlns=\"urn:schemas-upnp-org:control-1-0\"><errorCode>718</errorCode><errorDescription>"
                + "ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>");
        SoapCall.UpnpFault fault = assertThrows(SoapCall.UpnpFault.class,
                () -> SoapCall.call(control, WANIP2, "AddPortMapping", Map.of("NewExternalPort", "1"), t));
        assertEquals(718, fault.code());
        assertTrue(fault.getMessage().contains("UPnP error 718 ConflictInMappingEntry"), fault.getMessage());

        status.set(500);
        body.set("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
                + "<x>&b;</x>");
        malformed("DOCTYPE", () -> SoapCall.call(control, WANIP2, "AddPortMapping", Map.of(), t));

        status.set(200);
        body.set("<r>" + "x".repeat(RouterXml.MAX_BYTES) + "</r>");
        PortMappingException big = assertThrows(PortMappingException.class,
                () -> SoapCall.call(control, WANIP2, "GetExternalIPAddress", Map.of(), t));
        assertTrue(big.getMessage().contains("larger than 65536 bytes"), big.getMessage());

        body.set("<ok/>");
        malformed("no GetExternalIPAddressResponse", () -> SoapCall.call(control, WANIP2, "GetExternalIPAddress",
                Map.of(), t));

        status.set(404);
        body.set("");
        PortMappingException notFound = assertThrows(PortMappingException.class,
                () -> SoapCall.call(control, WANIP2, "GetExternalIPAddress", Map.of(), t));
        assertTrue(notFound.getMessage().contains("HTTP 404"), notFound.getMessage());
    }

    @Test
    void routerValuesAreParsedWithoutNameLookups() throws Exception {
        assertEquals(4, UpnpIgdClient.parseIpv4("203.0.113.101", "x").length);
        for (String bad : new String[] {"example.com", "256.1.1.1", "1.2.3", "", "1.2.3.4 ", "::1", null}) {
            malformed("not an IPv4 address", () -> UpnpIgdClient.parseIpv4(bad, "NewExternalIPAddress"));
        }
        assertEquals(40001, UpnpIgdClient.parsePort("40001"));
        for (String bad : new String[] {"0", "65536", "-1", "12a", "99999999999", null}) {
            malformed("invalid port", () -> UpnpIgdClient.parsePort(bad));
        }
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void malformed(String part, org.junit.jupiter.api.function.Executable call) {
        MalformedReplyException e = assertThrows(MalformedReplyException.class, call);
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
