package io.raftkv.server;

import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;
import io.raftkv.inspect.DumpCommand;
import io.raftkv.membership.ScaleDownCommand;

import java.util.Arrays;

/**
 * The executable's entry point (the JVM jar and the native executable alike). {@code raftkv dump ...} runs the offline
 * dump of a data directory ({@link DumpCommand}) without starting Quarkus, a node or any port, and exits with the
 * dump's status; {@code raftkv scale-down ...} removes the highest-ordinal members before a chart shrinks
 * ({@link ScaleDownCommand}); {@code raftkv restore ...} makes a data directory from a snapshot file
 * ({@link io.raftkv.restore.RestoreCommand}); {@code raftkv ctl ...} runs the command-line client ({@code raftkvctl},
 * {@link io.raftkv.cli.Ctl}) the same way; {@code raftkv warm-up [DIR]} is the training run of a class-data archive
 * ({@link WarmUp}); anything else (no arguments, as the images and scripts start it) starts the node as before.
 */
@QuarkusMain
public final class RaftkvMain {

    public static void main(String... args) {
        if (args.length > 0 && "dump".equals(args[0])) {
            int status = DumpCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err);
            System.out.flush();
            System.exit(status);
        }
        if (args.length > 0 && "scale-down".equals(args[0])) {
            int status = ScaleDownCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err);
            System.out.flush();
            System.exit(status);
        }
        if (args.length > 0 && "restore".equals(args[0])) {
            int status = io.raftkv.restore.RestoreCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err);
            System.out.flush();
            System.exit(status);
        }
        if (args.length > 0 && "ctl".equals(args[0])) {
            int status = io.raftkv.cli.Ctl.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err, System.getenv());
            System.out.flush();
            System.exit(status);
        }
        if (args.length > 0 && "warm-up".equals(args[0])) {
            WarmUp.run(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        Quarkus.run(args);
    }
}
