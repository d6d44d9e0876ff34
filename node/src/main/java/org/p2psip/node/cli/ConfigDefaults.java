package org.p2psip.node.cli;

import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Option values from the environment and the configuration file, for a command that has a {@value #CONFIG_OPTION}
 * option ({@code run}). Every long option {@code --NAME} of the command gets, with no code of its own:
 * <ul>
 * <li>a file key {@code NAME} (e.g. {@code xmlrpc-port = 4224});</li>
 * <li>an environment variable {@code P2PSIP_NAME}, upper case with {@code -} as {@code _} (e.g.
 *     {@code P2PSIP_XMLRPC_PORT=4224}).</li>
 * </ul>
 * Precedence: command line, then environment, then file, then the option's built-in default. Repeatable options take
 * a TOML array, or a comma-separated list in the environment; their values are handed to the parser as if given on
 * the command line once each (picocli would read a default value as one element), unless the command line gives
 * the option itself.
 *
 * <p>The file is {@code --config FILE} (also {@code P2PSIP_CONFIG}), which must exist, or else
 * {@code <data-dir>/}{@value #FILE_NAME}, which may be absent. Since the file's location depends on options, the
 * command line is parsed twice: once to find the file, then again with its values ({@link #install}).
 */
final class ConfigDefaults implements IDefaultValueProvider {
    /** The option that names the configuration file. */
    static final String CONFIG_OPTION = "--config";
    /** The option whose directory holds the default configuration file. */
    static final String DATA_DIR_OPTION = "--data-dir";
    /** The configuration file looked for in the data directory. */
    static final String FILE_NAME = "p2psip.toml";
    /** Prefix of the environment variables. */
    static final String ENV_PREFIX = "P2PSIP_";

    private final Map<String, String> env;
    private volatile ConfigFile file = ConfigFile.none();

    ConfigDefaults(Map<String, String> env) {
        this.env = Map.copyOf(Objects.requireNonNull(env, "env"));
    }

    /**
     * Gives every subcommand of {@code cl} that has a {@value #CONFIG_OPTION} option a provider reading {@code env}
     * and the configuration file, parses twice as described above, and names the file key or variable in errors
     * about values that came from them.
     */
    static void install(CommandLine cl, Map<String, String> env) {
        for (CommandLine sub : cl.getSubcommands().values()) {
            if (sub.getCommandSpec().findOption(CONFIG_OPTION) != null) {
                sub.setDefaultValueProvider(new ConfigDefaults(env));
            }
        }
        CommandLine.IExecutionStrategy run = cl.getExecutionStrategy();
        cl.setExecutionStrategy(pr -> {
            ParseResult sub = pr.subcommand();
            if (sub != null && !sub.isUsageHelpRequested() && !sub.isVersionHelpRequested()
                    && sub.commandSpec().defaultValueProvider() instanceof ConfigDefaults d) {
                d.load(sub);
                pr = cl.parseArgs(d.withRepeatableOptions(pr.originalArgs(), sub).toArray(new String[0]));
            }
            return run.execute(pr);
        });
        CommandLine.IParameterExceptionHandler handler = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((ex, args) -> handler.handleParseException(withSource(ex, args), args));
    }

    /** The file key of an option: its longest name without the leading dashes. */
    static String key(OptionSpec o) {
        return o.longestName().replaceFirst("^-+", "");
    }

    /** The environment variable of a file key. */
    static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    private static boolean configurable(OptionSpec o) {
        return !o.usageHelp() && !o.versionHelp() && o.longestName().startsWith("--");
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec o) || !configurable(o) || o.isMultiValue()) {
            return null; // repeatable options: see withRepeatableOptions
        }
        String key = key(o);
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            return fromEnv;
        }
        List<String> fromFile = file.values().get(key);
        return fromFile == null ? null : fromFile.get(0);
    }

    /** The environment's or else the file's values of a repeatable option; empty when neither sets it. */
    private List<String> repeatableValues(OptionSpec o) {
        String fromEnv = env.get(envName(key(o)));
        if (fromEnv != null) {
            List<String> out = new java.util.ArrayList<>();
            for (String v : fromEnv.split(",")) {
                if (!v.isBlank()) {
                    out.add(v.strip());
                }
            }
            return out;
        }
        return file.values().getOrDefault(key(o), List.of());
    }

    /**
     * {@code args} with {@code --name=value} inserted after the subcommand's name for each configured value of each
     * repeatable option the command line does not give.
     */
    List<String> withRepeatableOptions(List<String> args, ParseResult parsed) {
        List<String> extra = new java.util.ArrayList<>();
        for (OptionSpec o : parsed.commandSpec().options()) {
            if (configurable(o) && o.isMultiValue() && !parsed.hasMatchedOption(o)) {
                for (String v : repeatableValues(o)) {
                    extra.add(o.longestName() + "=" + v);
                }
            }
        }
        if (extra.isEmpty()) {
            return args;
        }
        CommandSpec spec = parsed.commandSpec();
        int at = -1;
        for (int i = 0; i < args.size() && at < 0; i++) {
            if (args.get(i).equals(spec.name()) || java.util.Arrays.asList(spec.aliases()).contains(args.get(i))) {
                at = i;
            }
        }
        if (at < 0) {
            return args;
        }
        List<String> out = new java.util.ArrayList<>(args.subList(0, at + 1));
        out.addAll(extra);
        out.addAll(args.subList(at + 1, args.size()));
        return out;
    }

    /** Where an option's value came from when not from the command line: a variable, a file key, or null. */
    String source(OptionSpec o) {
        if (!configurable(o)) {
            return null;
        }
        String key = key(o);
        if (env.containsKey(envName(key))) {
            return "environment variable " + envName(key);
        }
        if (file.values().containsKey(key)) {
            return "key '" + key + "' in " + file.path();
        }
        return null;
    }

    /**
     * Finds and reads the configuration file for the command just parsed, and checks its keys. The command line must
     * then be parsed again, with {@link #withRepeatableOptions}.
     *
     * @return whether a file was read
     */
    boolean load(ParseResult parsed) {
        CommandSpec spec = parsed.commandSpec();
        Path explicit = spec.findOption(CONFIG_OPTION).getValue();
        Path path = explicit;
        if (path == null) {
            OptionSpec dataDir = spec.findOption(DATA_DIR_OPTION);
            Object dir = dataDir == null ? null : dataDir.getValue();
            if (dir == null) {
                return false;
            }
            path = Path.of(dir.toString()).resolve(FILE_NAME);
        }
        ConfigFile f;
        try {
            f = ConfigFile.load(path);
        } catch (NoSuchFileException e) {
            if (explicit != null) {
                throw new ParameterException(spec.commandLine(), "the configuration file " + path + " does not exist "
                        + "(" + CONFIG_OPTION + "); create it (see p2psip.example.toml) or leave the option out");
            }
            return false;
        } catch (ConfigFile.ConfigException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        for (Map.Entry<String, List<String>> e : f.values().entrySet()) {
            OptionSpec o = spec.findOption("--" + e.getKey());
            if (o == null || !configurable(o) || o.longestName().equals(CONFIG_OPTION) || !key(o).equals(e.getKey())) {
                TreeSet<String> known = new TreeSet<>();
                for (OptionSpec k : spec.options()) {
                    if (configurable(k) && !k.longestName().equals(CONFIG_OPTION)) {
                        known.add(key(k));
                    }
                }
                throw new ParameterException(spec.commandLine(), path + ": unknown key '" + e.getKey() + "'; the keys are "
                        + String.join(", ", known));
            }
            if (e.getValue().size() != 1 && !o.isMultiValue()) {
                throw new ParameterException(spec.commandLine(), path + ": key '" + e.getKey() + "' takes one value, not "
                        + e.getValue().size());
            }
        }
        file = f;
        return true;
    }

    /**
     * The exception with the source of the offending value appended, when it names an option (as its subject, or as
     * the first word of its message) whose value came from the environment or the file rather than {@code args}.
     */
    private static ParameterException withSource(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        if (cl == null || !(cl.getCommandSpec().defaultValueProvider() instanceof ConfigDefaults d)) {
            return ex;
        }
        OptionSpec o = ex.getArgSpec() instanceof OptionSpec s ? s : null;
        String msg = String.valueOf(ex.getMessage());
        if (o == null) {
            int end = msg.indexOf(' ');
            String first = end < 0 ? msg : msg.substring(0, end);
            o = first.startsWith("--") ? cl.getCommandSpec().findOption(first) : null;
        }
        if (o == null || onCommandLine(o, args)) {
            return ex;
        }
        String source = d.source(o);
        if (source == null) {
            return ex;
        }
        String full = msg + " (set by " + source + ")";
        return ex.getArgSpec() == null && ex.getValue() == null ? new ParameterException(cl, full, ex)
                : new ParameterException(cl, full, ex, ex.getArgSpec(), ex.getValue());
    }

    private static boolean onCommandLine(OptionSpec o, String[] args) {
        for (String a : args) {
            for (String n : o.names()) {
                if (a.equals(n) || a.startsWith(n + "=") || (!n.startsWith("--") && a.startsWith(n) && a.length() > n.length())) {
                    return true;
                }
            }
        }
        return false;
    }
}
