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
        Instant utc = parseUtcSeconds(s);
        if (utc != null) {
            return utc;
        }
        try {
            return OffsetDateTime.parse(s.trim()).toInstant();
        } catch (DateTimeParseException e) {
            throw new RecordException(Refusal.BAD_RECORD, what + " must be a dateTime with a time zone: " + s);
        }
    }

    /**
     * The form this module writes, {@code YYYY-MM-DDThh:mm:ssZ}, without {@code DateTimeFormatter} (which was a fifth
     * of reading a verified record); null for any other form, which the general parser handles (or refuses).
     */
    static Instant parseUtcSeconds(String s) {
        if (s.length() != 20 || s.charAt(4) != '-' || s.charAt(7) != '-' || s.charAt(10) != 'T' || s.charAt(13) != ':'
                || s.charAt(16) != ':' || s.charAt(19) != 'Z') {
            return null;
        }
        int year = digits(s, 0, 4);
        int month = digits(s, 5, 2);
        int day = digits(s, 8, 2);
        int hour = digits(s, 11, 2);
        int minute = digits(s, 14, 2);
        int second = digits(s, 17, 2);
        if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59
                || second < 0 || second > 59) {
            return null;
        }
        java.time.YearMonth ym = java.time.YearMonth.of(year, month);
        if (day > ym.lengthOfMonth()) {
            return null;
        }
        long days = java.time.LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(days * 86_400L + hour * 3_600L + minute * 60L + second);
    }

    /** The decimal value of {@code n} ASCII digits at {@code from}, or -1 if one is not a digit. */
    private static int digits(String s, int from, int n) {
        int v = 0;
        for (int i = from; i < from + n; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v;
    }
}
