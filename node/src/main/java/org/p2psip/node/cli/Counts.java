package org.p2psip.node.cli;

import java.util.ArrayList;
import java.util.List;
import org.p2psip.node.control.ControlText;

/** The {@code STORED n m} / {@code REMOVED n m} and {@code REFUSED reason} lines of a PUT or RM reply. */
record Counts(int done, int asked, List<String> refusals) {
    static Counts of(List<String> lines, String word) {
        int done = -1;
        int asked = -1;
        List<String> refusals = new ArrayList<>();
        for (String l : lines) {
            List<String> t = ControlText.split(l);
            if (t.size() == 3 && t.get(0).equals(word)) {
                try {
                    done = Integer.parseInt(t.get(1));
                    asked = Integer.parseInt(t.get(2));
                } catch (NumberFormatException e) {
                    throw new CliException("the node sent a malformed reply: " + l);
                }
            } else if (l.startsWith("REFUSED ")) {
                refusals.add(l.substring("REFUSED ".length()));
            }
        }
        if (done < 0) {
            throw new CliException("the node's reply lacks its " + word + " line");
        }
        return new Counts(done, asked, refusals);
    }
}
