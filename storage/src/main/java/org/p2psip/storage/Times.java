package org.p2psip.storage;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/** xsd:dateTime in records: always with a time zone, written in UTC with whole seconds. */
final class Times {
    private Times() {
    }

    static Instant truncate(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS);
    }

    static String format(Instant t) {
        return truncate(t).toString();
    }

    /** Parses an xsd:dateTime that must carry a zone (a record's expiry must not depend on the reader's zone). */
    static Instant parse(String s, String what) throws RecordException {
        try {
            return OffsetDateTime.parse(s.trim()).toInstant();
        } catch (DateTimeParseException e) {
            throw new RecordException(Refusal.BAD_RECORD, what + " must be a dateTime with a time zone: " + s);
        }
    }
}
