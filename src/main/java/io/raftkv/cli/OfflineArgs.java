package io.raftkv.cli;

/**
 * The command line of the executable's offline commands ({@code raftkv dump}, {@code raftkv restore},
 * {@code raftkv scale-down}), read left to right by the command itself: {@link #next()} gives each argument in turn,
 * and an option that takes a value gets it with {@link #value()}, the next argument whatever it is (none left: "OPTION
 * needs a value", an {@link IllegalArgumentException}, which the commands report as a usage error, exit 2). Each
 * option is acted on where it stands, so {@code --help} answers only what comes before it, and what an unknown option
 * or a positional argument means is the command's to say.
 * <p>
 * Not {@link Args} ({@code raftkvctl}'s): that one also reads {@code --name=value}, {@code --} and {@code -o}, knows
 * the client's global options and reports with {@link CtlException}; these commands have never taken those.
 */
public final class OfflineArgs {

    private final String[] args;
    private int next;
    private String current;

    public OfflineArgs(String[] args) {
        this.args = args;
    }

    /** Whether an argument is left. */
    public boolean more() {
        return next < args.length;
    }

    /** The next argument (the option or positional argument to act on). */
    public String next() {
        current = args[next++];
        return current;
    }

    /** The value of the option {@link #next()} gave: the argument after it. */
    public String value() {
        if (next >= args.length) {
            throw new IllegalArgumentException(current + " needs a value");
        }
        return args[next++];
    }
}
