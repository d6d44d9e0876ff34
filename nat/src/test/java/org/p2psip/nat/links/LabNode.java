package org.p2psip.nat.links;

import java.util.List;
import org.p2psip.nat.lab.NatLab;
import org.p2psip.testing.CommandChild;

/** A {@link SecureLinksNodeMain} in a child JVM inside a lab namespace, driven by commands. */
final class LabNode {
    private LabNode() { }

    static CommandChild start(NatLab lab, String name, String namespace, List<String> args) throws Exception {
        return CommandChild.start(name, lab.spawn(namespace,
                NatLab.javaCommand(SecureLinksNodeMain.class.getName(), args)), 90, 150);
    }
}
