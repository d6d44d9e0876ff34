package org.p2psip.nat.portmap;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * UPnP Internet Gateway Device client: SSDP discovery, the device description over HTTP, and the WANIPConnection (or
 * WANPPPConnection) actions GetExternalIPAddress, AddPortMapping (AddAnyPortMapping on a conflict with an IGDv2
 * router) and DeletePortMapping. The device found is kept for later calls.
 */
public final class UpnpIgdClient implements MappingClient {
    static final int CONFLICT_IN_MAPPING_ENTRY = 718;
    static final int ONLY_PERMANENT_LEASES = 725;

    private final InetAddress router;
    private final InetAddress local;
    private final PortMapConfig config;
    private IgdDescription device;

    /** @param router the only device whose SSDP answers count (null: the first gateway that answers) */
    public UpnpIgdClient(InetAddress router, InetAddress local, PortMapConfig config) {
        this.router = router;
        this.local = local;
        this.config = config;
    }

    @Override
    public Method method() {
        return Method.UPNP_IGD;
    }

    private synchronized IgdDescription device() throws PortMappingException {
        if (device == null) {
            URI location = Ssdp.discover(local, router, config.ssdpWait());
            InetAddress host = NatPmpCodec.ipv4(parseIpv4(location.getHost(), "LOCATION host"));
            device = IgdDescription.parse(SoapCall.get(location, config.httpTimeout()), location, host);
        }
        return device;
    }

    /** The router's public address (GetExternalIPAddress). */
    public InetAddress externalAddress() throws PortMappingException {
        IgdDescription d = device();
        Map<String, String> r = SoapCall.call(d.controlUrl(), d.serviceType(), "GetExternalIPAddress", Map.of(),
                config.httpTimeout());
        String ip = r.get("NewExternalIPAddress");
        if (ip == null || ip.isEmpty()) {
            throw new PortMappingException("router at " + d.controlUrl().getHost()
                    + " has no external address (GetExternalIPAddress answered empty)");
        }
        InetAddress a = NatPmpCodec.ipv4(parseIpv4(ip, "NewExternalIPAddress"));
        if (a.isAnyLocalAddress()) {
            throw new PortMappingException("router at " + d.controlUrl().getHost() + " answered 0.0.0.0 as its"
                    + " external address: it has no public address");
        }
        return a;
    }

    @Override
    public Mapping map(Protocol protocol, InetSocketAddress internal, int suggestedExternalPort, Duration lifetime)
            throws PortMappingException {
        try {
            return mapOnce(protocol, internal, suggestedExternalPort, lifetime);
        } catch (SoapCall.UpnpFault refused) {
            throw refused;
        } catch (PortMappingException unreachable) {
            forgetDevice();
            throw unreachable;
        }
    }

    /**
     * Forgets the device found, so the next call searches again: a restarted router may serve its description and
     * control URL on another port (miniupnpd picks a random one by default).
     */
    private synchronized void forgetDevice() {
        device = null;
    }

    private Mapping mapOnce(Protocol protocol, InetSocketAddress internal, int suggestedExternalPort,
            Duration lifetime) throws PortMappingException {
        IgdDescription d = device();
        InetAddress external = externalAddress();
        int port = suggestedExternalPort == 0 ? internal.getPort() : suggestedExternalPort;
        long lease = Math.max(1, lifetime.toSeconds());
        try {
            add(d, "AddPortMapping", protocol, internal, port, lease);
        } catch (SoapCall.UpnpFault f) {
            if (f.code() == ONLY_PERMANENT_LEASES) {
                lease = 0;
                add(d, "AddPortMapping", protocol, internal, port, 0);
            } else if (f.code() == CONFLICT_IN_MAPPING_ENTRY && d.version() >= 2) {
                Map<String, String> r = add(d, "AddAnyPortMapping", protocol, internal, port, lease);
                port = parsePort(r.get("NewReservedPort"));
            } else {
                throw f;
            }
        }
        return new Mapping(protocol, internal, new InetSocketAddress(external, port), Duration.ofSeconds(lease),
                Method.UPNP_IGD);
    }

    private Map<String, String> add(IgdDescription d, String action, Protocol protocol, InetSocketAddress internal,
            int externalPort, long lease) throws PortMappingException {
        Map<String, String> args = new LinkedHashMap<>();
        args.put("NewRemoteHost", "");
        args.put("NewExternalPort", String.valueOf(externalPort));
        args.put("NewProtocol", protocol.name());
        args.put("NewInternalPort", String.valueOf(internal.getPort()));
        args.put("NewInternalClient", internal.getAddress().getHostAddress());
        args.put("NewEnabled", "1");
        args.put("NewPortMappingDescription", config.description());
        args.put("NewLeaseDuration", String.valueOf(lease));
        return SoapCall.call(d.controlUrl(), d.serviceType(), action, args, config.httpTimeout());
    }

    @Override
    public void unmap(Mapping mapping) throws PortMappingException {
        IgdDescription d = device();
        Map<String, String> args = new LinkedHashMap<>();
        args.put("NewRemoteHost", "");
        args.put("NewExternalPort", String.valueOf(mapping.external().getPort()));
        args.put("NewProtocol", mapping.protocol().name());
        SoapCall.call(d.controlUrl(), d.serviceType(), "DeletePortMapping", args, config.httpTimeout());
    }

    static int parsePort(String s) throws MalformedReplyException {
        if (s == null || !s.matches("[0-9]{1,5}") || Integer.parseInt(s) < 1 || Integer.parseInt(s) > 65535) {
            throw new MalformedReplyException("router answered an invalid port: " + abbreviate(s));
        }
        return Integer.parseInt(s);
    }

    /** A dotted-quad IPv4 literal, parsed without any name lookup. */
    static byte[] parseIpv4(String s, String what) throws MalformedReplyException {
        if (s == null || !s.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            throw new MalformedReplyException(what + " is not an IPv4 address: " + abbreviate(s));
        }
        String[] parts = s.split("\\.");
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            int v = Integer.parseInt(parts[i]);
            if (v > 255) {
                throw new MalformedReplyException(what + " is not an IPv4 address: " + s);
            }
            out[i] = (byte) v;
        }
        return out;
    }

    private static String abbreviate(String s) {
        if (s == null) {
            return "(missing)";
        }
        String t = s.replaceAll("[^\\x20-\\x7e]", "?");
        return t.length() > 40 ? t.substring(0, 40) + "..." : t;
    }
}
