package org.p2psip.nat.ice;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * ice4j reads its configuration (Typesafe Config, system properties override) once, when its first class needs it,
 * and {@code new Agent()} would otherwise probe the cloud metadata address 169.254.169.254 (the AWS mapping
 * harvester). This sets the properties this project needs before any Agent exists. The settings are process-wide
 * because ice4j's are; they are only set when absent, so a deployment can still override them on the command line.
 */
final class Ice4jSettings {
    /** Held so that the logger (and its level) is not garbage collected. */
    private static final Logger ICE4J_LOG = Logger.getLogger("org.ice4j");
    private static final Logger JITSI_LOG = Logger.getLogger("org.jitsi");

    private Ice4jSettings() {
    }

    static synchronized void apply() {
        setIfAbsent("ice4j.harvest.mapping.aws.enabled", "false");
        setIfAbsent("ice4j.harvest.mapping.aws.force", "false");
        setIfAbsent("ice4j.harvest.use-ipv6", "false");
        setIfAbsent("ice4j.harvest.use-link-local-addresses", "false");
        setIfAbsent("ice4j.software", "p2psip");
        if (System.getProperty("p2psip.ice4j.log") == null) {
            // ice4j logs every check at INFO through java.util.logging.
            ICE4J_LOG.setLevel(Level.WARNING);
            JITSI_LOG.setLevel(Level.WARNING);
        }
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
