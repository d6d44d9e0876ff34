package org.p2psip.node.links;

import java.util.List;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.testing.CommandChild;

/** A {@link LabPeerMain} in a child JVM inside a lab namespace, driven by commands. */
final class LabPeer {
    private LabPeer() { }

    static CommandChild start(NatLab lab, String name, String namespace, List<String> args) throws Exception {
        return CommandChild.start(name, lab.spawn(namespace,
                NatLab.javaCommand(LabPeerMain.class.getName(), args)), 120, 150);
    }
}
