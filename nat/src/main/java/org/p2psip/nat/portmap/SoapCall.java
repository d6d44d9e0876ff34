package org.p2psip.nat.portmap;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.w3c.dom.Document;

/**
 * UPnP HTTP: GET of a device description and SOAP 1.1 action calls. Never through a proxy, with timeouts and a body
 * limit; SOAP faults become {@link UpnpFault}s carrying the UPnP error code.
 */
final class SoapCall {
    /** A UPnP error answer (SOAP fault with UPnPError). */
    static final class UpnpFault extends PortMappingException {
        private static final long serialVersionUID = 1L;
        private final int code;

        UpnpFault(String message, int code) {
            super(message);
            this.code = code;
        }

        int code() {
            return code;
        }
    }

    private SoapCall() {
    }

    static byte[] get(URI url, Duration timeout) throws PortMappingException {
        try {
            HttpURLConnection c = open(url, timeout);
            c.setRequestMethod("GET");
            int status = c.getResponseCode();
            if (status != 200) {
                throw new PortMappingException("GET " + url + " answered HTTP " + status);
            }
            return readLimited(c.getInputStream(), "device description at " + url);
        } catch (IOException e) {
            throw new PortMappingException("GET " + url + " failed: " + e.getMessage(), e);
        }
    }

    /** Calls {@code action} of {@code serviceType}; returns the response's argument values by name. */
    static Map<String, String> call(URI control, String serviceType, String action, Map<String, String> args,
            Duration timeout) throws PortMappingException {
        StringBuilder body = new StringBuilder("<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas."
                + "xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
                + "<s:Body><u:" + action + " xmlns:u=\"" + escape(serviceType) + "\">");
        for (Map.Entry<String, String> a : args.entrySet()) {
            body.append('<').append(a.getKey()).append('>').append(escape(a.getValue()))
                    .append("</").append(a.getKey()).append('>');
        }
        body.append("</u:").append(action).append("></s:Body></s:Envelope>\r\n");
        byte[] payload = body.toString().getBytes(StandardCharsets.UTF_8);
        String what = action + " at " + control;
        byte[] answer;
        int status;
        try {
            HttpURLConnection c = open(control, timeout);
            c.setRequestMethod("POST");
            c.setDoOutput(true);
            c.setFixedLengthStreamingMode(payload.length);
            c.setRequestProperty("Content-Type", "text/xml; charset=\"utf-8\"");
            c.setRequestProperty("SOAPAction", "\"" + serviceType + "#" + action + "\"");
            try (OutputStream out = c.getOutputStream()) {
                out.write(payload);
            }
            status = c.getResponseCode();
            InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream();
            answer = in == null ? new byte[0] : readLimited(in, "answer to " + what);
        } catch (IOException e) {
            throw new PortMappingException(what + " failed: " + e.getMessage(), e);
        }
        if (status == 200) {
            Document doc = RouterXml.parse(answer, "answer to " + what);
            var responses = RouterXml.elements(doc, action + "Response");
            if (responses.isEmpty()) {
                throw new MalformedReplyException("answer to " + what + " has no " + action + "Response element");
            }
            Map<String, String> out = new LinkedHashMap<>();
            for (org.w3c.dom.Node n = responses.get(0).getFirstChild(); n != null; n = n.getNextSibling()) {
                if (n instanceof org.w3c.dom.Element e) {
                    out.put(e.getLocalName() == null ? e.getTagName() : e.getLocalName(), e.getTextContent().trim());
                }
            }
            return out;
        }
        if (status == 500 && answer.length > 0) {
            Document doc = RouterXml.parse(answer, "SOAP fault for " + what);
            String code = RouterXml.text(doc, "errorCode");
            String description = RouterXml.text(doc, "errorDescription");
            if (code != null && code.matches("[0-9]{1,4}")) {
                throw new UpnpFault("router refused " + what + ": UPnP error " + code
                        + (description == null ? "" : " " + truncate(description)), Integer.parseInt(code));
            }
        }
        throw new PortMappingException(what + " answered HTTP " + status + " without a UPnP error code");
    }

    private static HttpURLConnection open(URI url, Duration timeout) throws IOException {
        HttpURLConnection c = (HttpURLConnection) url.toURL().openConnection(Proxy.NO_PROXY);
        int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
        c.setConnectTimeout(ms);
        c.setReadTimeout(ms);
        c.setInstanceFollowRedirects(false);
        c.setUseCaches(false);
        return c;
    }

    static byte[] readLimited(InputStream in, String what) throws IOException {
        try (in) {
            byte[] b = in.readNBytes(RouterXml.MAX_BYTES + 1);
            if (b.length > RouterXml.MAX_BYTES) {
                throw new IOException(what + " is larger than " + RouterXml.MAX_BYTES + " bytes");
            }
            return b;
        }
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String truncate(String s) {
        String t = s.replaceAll("[^\\x20-\\x7e]", "?");
        return t.length() > 120 ? t.substring(0, 120) + "..." : t;
    }
}
