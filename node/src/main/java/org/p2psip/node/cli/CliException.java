package org.p2psip.node.cli;

/** A command failed for a reason the user can act on; the CLI prints only the message and exits with 1. */
final class CliException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CliException(String message) {
        super(message);
    }

    CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
