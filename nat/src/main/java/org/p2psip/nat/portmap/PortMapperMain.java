package org.p2psip.nat.portmap;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps a UDP port and shows what arrives on it; driven by commands on standard input (the NAT lab's tests run it in
 * a host namespace).
 *
 * <pre>
 *   java ... PortMapperMain --bind IP --port P [--methods PCP,NAT_PMP,UPNP_IGD] [--lifetime SECONDS] [--router IP]
 *   stdin:  map | close | (end of input: exit)
 *   stdout: listening=IP:P, mapped=METHOD EXT_IP:EXT_PORT LIFETIME_S, error=..., received=FROM_IP:PORT TEXT,
 *           changed=..., closed
 * </pre>
 */
public final class PortMapperMain {
    private PortMapperMain() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress bind = null;
        int port = 0;
        long lifetime = 120;
        PortMapConfig config = PortMapConfig.defaults().withTimeouts(Duration.ofMillis(250), 4, Duration.ofSeconds(3),
                Duration.ofSeconds(5));
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--bind" -> bind = InetAddress.getByName(args[i + 1]);
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--lifetime" -> lifetime = Long.parseLong(args[i + 1]);
                case "--router" -> config = config.withRouter(InetAddress.getByName(args[i + 1]));
                case "--methods" -> {
                    List<Method> ms = new ArrayList<>();
                    for (String m : args[i + 1].split(",")) {
                        ms.add(Method.valueOf(m));
                    }
                    config = config.withMethods(ms);
                }
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (bind == null || port == 0) {
            System.err.println("usage: PortMapperMain --bind IP --port P [--methods M,..] [--lifetime S] [--router IP]");
            System.exit(2);
        }
        config = config.withLocal(bind);
        DatagramSocket socket = new DatagramSocket(new InetSocketAddress(bind, port));
        Thread receiver = new Thread(() -> {
            byte[] buf = new byte[1500];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    say("received=" + p.getAddress().getHostAddress() + ":" + p.getPort() + " "
                            + new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8).trim());
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }, "receiver");
        receiver.setDaemon(true);
        receiver.start();
        say("listening=" + bind.getHostAddress() + ":" + port);
        PortMapper mapper = null;
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            try {
                switch (line.trim()) {
                    case "map" -> {
                        mapper = PortMapper.create(config);
                        mapper.onChange((old, now) -> say("changed=" + old + " => " + now));
                        Mapping m = mapper.map(Protocol.UDP, port, Duration.ofSeconds(lifetime));
                        say("mapped=" + m.method() + " " + m.external().getAddress().getHostAddress() + ":"
                                + m.external().getPort() + " " + m.lifetime().toSeconds());
                    }
                    case "close" -> {
                        if (mapper != null) {
                            mapper.close();
                        }
                        say("closed");
                    }
                    default -> say("error=unknown command " + line);
                }
            } catch (PortMappingException | RuntimeException e) {
                say("error=" + e.getMessage());
            }
        }
        if (mapper != null) {
            mapper.close();
        }
        socket.close();
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
