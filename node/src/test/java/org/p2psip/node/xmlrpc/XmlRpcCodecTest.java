package org.p2psip.node.xmlrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.DhtValue;

class XmlRpcCodecTest {
    private static XmlRpcCodec.MethodCall decode(String s) throws XmlRpcFault {
        return XmlRpcCodec.decodeCall(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void decodesEveryType() throws Exception {
        XmlRpcCodec.MethodCall c = decode("<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>"
                + "<param><value><int>-5</int></value></param>"
                + "<param><value><i4>7</i4></value></param>"
                + "<param><value><string>a &lt;b&gt; &amp;</string></value></param>"
                + "<param><value>bare</value></param>"
                + "<param><value><base64>\naGVsbG8=\n</base64></value></param>"
                + "<param><value><boolean>1</boolean></value></param>"
                + "<param><value><double>-1.5</double></value></param>"
                + "<param><value><array><data><value><int>1</int></value><value>x</value></data></array></value></param>"
                + "<param><value><struct><member><name>k</name><value><int>2</int></value></member></struct></value></param>"
                + "</params></methodCall>");
        assertEquals("m", c.methodName());
        List<Object> p = c.params();
        assertEquals(-5, p.get(0));
        assertEquals(7, p.get(1));
        assertEquals("a <b> &", p.get(2));
        assertEquals("bare", p.get(3));
        assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), (byte[]) p.get(4));
        assertEquals(true, p.get(5));
        assertEquals(-1.5, p.get(6));
        assertEquals(List.of(1, "x"), p.get(7));
        assertEquals(Map.of("k", 2), p.get(8));
    }

    @Test
    void refusesWhatItDoesNotKnow() {
        for (String bad : List.of("<methodCall><methodName>m</methodName><params><param><value><i8>1</i8></value></param></params></methodCall>",
                "<methodCall><methodName>m</methodName><params><param><value><int>99999999999</int></value></param></params></methodCall>",
                "<methodCall><methodName>m</methodName><params><param><value><boolean>true</boolean></value></param></params></methodCall>",
                "<methodCall><methodName>m</methodName><params><param><value><base64>!!</base64></value></param></params></methodCall>",
                "<methodCall><methodName>m</methodName><params><param/></params></methodCall>",
                "<methodCall><methodName>m</methodName><methodName>n</methodName></methodCall>",
                "<methodCall><methodName>m</methodName>text<params/></methodCall>")) {
            XmlRpcFault f = assertThrows(XmlRpcFault.class, () -> decode(bad), bad);
            assertEquals(XmlRpcFault.INVALID_REQUEST, f.code(), bad);
        }
        XmlRpcFault f = assertThrows(XmlRpcFault.class, () -> decode("<!DOCTYPE x><methodCall/>"));
        assertEquals(XmlRpcFault.PARSE_ERROR, f.code());
    }

    @Test
    void encodesResultsAndFaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a&b", 1.25);
        String r = new String(XmlRpcCodec.encodeResponse(List.of(1, "<x>", new byte[] {1, 2}, false, m)), StandardCharsets.UTF_8);
        assertTrue(r.contains("<array><data><value><int>1</int></value><value><string>&lt;x&gt;</string></value>"
                + "<value><base64>AQI=</base64></value><value><boolean>0</boolean></value>"
                + "<value><struct><member><name>a&amp;b</name><value><double>1.25</double></value></member></struct></value>"
                + "</data></array>"), r);
        String f = new String(XmlRpcCodec.encodeFault(-32601, "no \u0001 such"), StandardCharsets.UTF_8);
        assertTrue(f.contains("<fault><value><struct><member><name>faultCode</name><value><int>-32601</int></value></member>"
                + "<member><name>faultString</name><value><string>no \uFFFD such</string></value></member>"), f);
    }

    @Test
    void placemarksRoundTrip() throws Exception {
        DhtValue.ValueId id = new DhtValue.ValueId(Bytes.EMPTY, Bytes.of(new byte[20]));
        assertEquals(id, OpenDhtGateway.decodePlacemark(OpenDhtGateway.encodePlacemark(id)));
        assertThrows(XmlRpcFault.class, () -> OpenDhtGateway.decodePlacemark(new byte[] {1, 5}));
    }
}
