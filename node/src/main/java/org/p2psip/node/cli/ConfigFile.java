package org.p2psip.node.cli;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A p2psip configuration file: TOML with flat keys, each the long name of a command option without its dashes
 * ({@code port = 4222}, {@code data-dir = "/var/lib/p2psip"}, {@code bootstrap = ["192.0.2.10:4222"]}). Values are
 * strings, integers, booleans or floats, or arrays of them for repeatable options; they are kept as text and
 * converted by the command line's own converters, exactly as if given on the command line.
 */
final class ConfigFile {
    /** Larger files are refused before parsing: a configuration is a few hundred bytes. */
    static final long MAX_BYTES = 1 << 20;

    private final Path path;
    private final Map<String, List<String>> values;

    private ConfigFile(Path path, Map<String, List<String>> values) {
        this.path = path;
        this.values = Collections.unmodifiableMap(values);
    }

    /** No file: every key is absent. */
    static ConfigFile none() {
        return new ConfigFile(null, new LinkedHashMap<>());
    }

    /**
     * Reads {@code file}.
     *
     * @throws ConfigException when it cannot be read, is not TOML, or holds a table or nested array
     * @throws NoSuchFileException when it does not exist
     */
    static ConfigFile load(Path file) throws ConfigException, NoSuchFileException {
        JsonNode root;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ConfigException(file + " is larger than " + MAX_BYTES + " bytes; is it really a p2psip configuration?");
            }
            root = new TomlMapper().readTree(file.toFile());
        } catch (NoSuchFileException e) {
            throw e;
        } catch (JacksonException e) {
            throw new ConfigException(file + " is not valid TOML: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""));
        } catch (IOException e) {
            throw new ConfigException("cannot read " + file + ": " + e.getMessage());
        }
        Map<String, List<String>> values = new LinkedHashMap<>();
        if (root == null || root.isMissingNode() || root.isNull()) {
            return new ConfigFile(file, values);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            JsonNode v = e.getValue();
            List<String> list = new ArrayList<>();
            if (v.isArray()) {
                for (JsonNode item : v) {
                    if (!item.isValueNode()) {
                        throw new ConfigException(file + ": key '" + key + "': an array of plain values is expected");
                    }
                    list.add(item.asText());
                }
            } else if (v.isValueNode()) {
                list.add(v.asText());
            } else {
                throw new ConfigException(file + ": key '" + key + "' is a table; the file holds flat keys, one per "
                        + "option (see p2psip.example.toml)");
            }
            values.put(key, List.copyOf(list));
        }
        return new ConfigFile(file, values);
    }

    /** The file's path, or null for {@link #none()}. */
    Path path() {
        return path;
    }

    /** Every key and its values, in file order. */
    Map<String, List<String>> values() {
        return values;
    }

    /** A configuration that cannot be used; the message names the file and the key. */
    static final class ConfigException extends Exception {
        private static final long serialVersionUID = 1L;

        ConfigException(String message) {
            super(message);
        }
    }
}
