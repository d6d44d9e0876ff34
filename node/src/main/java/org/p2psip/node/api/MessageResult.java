package org.p2psip.node.api;

/**
 * The final response to a MESSAGE sent through {@link P2pSip#sendMessage}: 200 when a device of the recipient
 * accepted it, 202 when the recipient had no live contact and the message was stored encrypted in the DHT for its
 * next registration, 404 when the recipient is unknown (no contact and no published certificate), 480 when none of
 * its devices could be reached and the message could not be stored, and whatever else a device answered.
 *
 * @param status the SIP status code
 * @param reason the reason phrase
 */
public record MessageResult(int status, String reason) {
    /** True when a device of the recipient accepted the message (a 2xx other than 202). */
    public boolean delivered() {
        return status / 100 == 2 && status != 202;
    }

    /** True when the message waits in the DHT for the recipient's next registration (202 Accepted). */
    public boolean storedOffline() {
        return status == 202;
    }
}
