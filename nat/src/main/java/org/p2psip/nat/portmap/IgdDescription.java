package org.p2psip.nat.portmap;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * The WAN connection service of an IGD device description: WANIPConnection (preferred) or WANPPPConnection, with its
 * control URL resolved against URLBase or the description's own URL, and required to stay on the device's host.
 *
 * @param serviceType e.g. {@code urn:schemas-upnp-org:service:WANIPConnection:2}
 * @param controlUrl where its SOAP actions are posted
 */
record IgdDescription(String serviceType, URI controlUrl) {
    static final String IP = "urn:schemas-upnp-org:service:WANIPConnection:";
    static final String PPP = "urn:schemas-upnp-org:service:WANPPPConnection:";

    /** The service version (the number after the last colon), 1 when unreadable. */
    int version() {
        try {
            return Integer.parseInt(serviceType.substring(serviceType.lastIndexOf(':') + 1));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    static IgdDescription parse(byte[] xml, URI location, InetAddress device) throws PortMappingException {
        Document doc = RouterXml.parse(xml, "UPnP device description from " + location);
        Element best = null;
        for (Element service : RouterXml.elements(doc, "service")) {
            String type = RouterXml.text(service, "serviceType");
            if (type == null) {
                continue;
            }
            if (type.startsWith(IP)) {
                best = service;
                break;
            }
            if (type.startsWith(PPP) && best == null) {
                best = service;
            }
        }
        if (best == null) {
            throw new PortMappingException("the UPnP device at " + location
                    + " has no WANIPConnection or WANPPPConnection service: it is not an Internet Gateway Device");
        }
        String type = RouterXml.text(best, "serviceType");
        String control = RouterXml.text(best, "controlURL");
        if (control == null || control.isEmpty() || control.length() > 512 || type.length() > 128) {
            throw new MalformedReplyException("the " + type + " service at " + location
                    + " has a missing or oversized controlURL");
        }
        String base = RouterXml.text(doc, "URLBase");
        URI resolved;
        try {
            URI against = base == null || base.isEmpty() ? location : Ssdp.checkUrl(base, device, "URLBase");
            resolved = against.resolve(new URI(control));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new MalformedReplyException("controlURL " + control + " at " + location + " is not a URL: "
                    + e.getMessage());
        }
        return new IgdDescription(type, Ssdp.checkUrl(resolved.toString(), device, "controlURL"));
    }
}
