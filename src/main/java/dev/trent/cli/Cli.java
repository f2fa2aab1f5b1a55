package dev.trent.cli;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;

import picocli.CommandLine;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * Runs a picocli command line the way Trent's CLIs answer: one line on standard error, prefixed
 * with the CLI's name, in the CLI's own words rather than picocli's ({@code --out is required},
 * {@code --out needs a value}, {@code unknown option '--x'}, {@code --slot-index must be a number}),
 * and the CLI's exit codes.
 */
final class Cli {

    /**
     * @param name          the CLI's name after {@code java -jar trent.jar} ({@code ca})
     * @param prefix        what every error line starts with ({@code trent ca: })
     * @param argumentsExit the exit code for arguments picocli refuses
     * @param failureExit   the exit code for an exception the command throws and {@code explain} words
     */
    record Style(String name, String prefix, int argumentsExit, int failureExit) {
    }

    private Cli() {
    }

    /**
     * @param explain the message for an exception a command threw, or null to let it propagate
     *                (a bug, with its stack trace)
     */
    static int execute(CommandLine cl, String[] args, PrintStream out, PrintStream err, Style style,
            Function<Exception, String> explain) {
        PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        style(cl);
        // No @argument-file expansion: a value such as a key label is taken as written.
        cl.setOut(o).setErr(e).setExpandAtFiles(false).setSeparator(" ").setOverwrittenOptionsAllowed(true)
                .setUsageHelpWidth(100)
                .setParameterExceptionHandler((ex, a) -> {
                    err.println(style.prefix() + message(ex, a, style));
                    return style.argumentsExit();
                })
                .setExecutionExceptionHandler((ex, c, parsed) -> {
                    String m = explain.apply(ex);
                    if (m == null) {
                        throw ex;
                    }
                    err.println(style.prefix() + m);
                    return style.failureExit();
                });
        try {
            return cl.execute(args);
        } finally {
            o.flush();
            e.flush();
        }
    }

    /** One look for every command's help: options in the order declared, "usage: " as the CLIs always said. */
    private static void style(CommandLine cl) {
        cl.getCommandSpec().usageMessage().synopsisHeading("usage: ").sortOptions(false).sortSynopsis(false);
        if (cl.getCommand() instanceof CommandLine.HelpCommand) {
            cl.getCommandSpec().usageMessage().header("show a command's options: help <command>").description();
        }
        cl.getSubcommands().values().forEach(Cli::style);
    }

    private static String message(ParameterException ex, String[] args, Style style) {
        CommandLine where = ex.getCommandLine();
        boolean root = where.getCommandSpec().parent() == null;
        if (ex instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String first = u.getUnmatched().get(0);
            if (root && where.getSubcommands().isEmpty()) {
                return "unknown option '" + first + "'";
            }
            return root ? "unknown command '" + first + "'"
                    : "unknown option '" + first + "' (see '" + style.name() + " help " + where.getCommandName()
                            + "')";
        }
        if (ex instanceof MissingParameterException m && !m.getMissing().isEmpty()
                && m.getMissing().get(0) instanceof OptionSpec option) {
            String name = option.longestName();
            return Arrays.asList(args).contains(name) ? name + " needs a value" : name + " is required";
        }
        ArgSpec arg = ex.getArgSpec();
        if (ex.getCause() instanceof TypeConversionException t && arg instanceof OptionSpec option) {
            return option.longestName() + " " + t.getMessage();
        }
        return ex.getMessage();
    }
}
