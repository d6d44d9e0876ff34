package org.p2psip.node;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.stream.Collectors;

/** Parses {@code host:port}, {@code [v6]:port} and a bare {@code host} (which takes a default port). */
public final class HostPort {
    private HostPort() { }

    /**
     * An unresolved address; the host is resolved when it is used, so a name that resolves later (DNS
     * not ready at boot) still works.
     *
     * @throws IllegalArgumentException when the text is not of that form or the port is out of range
     */
    public static InetSocketAddress parse(String text, int defaultPort) {
        String s = text.trim();
        if (s.isEmpty()) {
            throw new IllegalArgumentException("empty address; expected host:port");
        }
        String host;
        String port = null;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("'" + text + "': missing ']' after an IPv6 address");
            }
            host = s.substring(1, close);
            String rest = s.substring(close + 1);
            if (!rest.isEmpty()) {
                if (!rest.startsWith(":")) {
                    throw new IllegalArgumentException("'" + text + "': expected [address]:port");
                }
                port = rest.substring(1);
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon >= 0 && s.indexOf(':') != colon) {
                throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, as [::1]:4222");
            }
            host = colon < 0 ? s : s.substring(0, colon);
            port = colon < 0 ? null : s.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("'" + text + "': missing host; expected host:port");
        }
        int p = defaultPort;
        if (port != null) {
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "': the port '" + port + "' is not a number");
            }
        }
        if (p < 1 || p > 65_535) {
            throw new IllegalArgumentException("'" + text + "': the port must be within 1..65535");
        }
        return InetSocketAddress.createUnresolved(host, p);
    }

    /** {@code host:port} for display: IPv6 in brackets and in its short form ({@code [::]:4222}). */
    public static String format(InetSocketAddress a) {
        InetAddress addr = a.isUnresolved() ? null : a.getAddress();
        String host = addr == null ? a.getHostString() : address(addr);
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
    }

    /** Formats a list of addresses as {@code host:port, host:port}. */
    public static String format(List<InetSocketAddress> list) {
        return list.stream().map(HostPort::format).collect(Collectors.joining(", "));
    }

    /** An address as text; IPv6 in the short form of RFC 5952 (without a scope). */
    public static String address(InetAddress addr) {
        if (!(addr instanceof Inet6Address)) {
            return addr.getHostAddress();
        }
        byte[] b = addr.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (b[2 * i] & 0xff) << 8 | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen && j - i >= 2) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }
}
