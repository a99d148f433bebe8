package io.raftkv.peer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Test certificates made by scripts/peer-certs.sh (as make run makes them), once per directory. */
public final class PeerCerts {

    private PeerCerts() {
    }

    /** A CA and certificates for {@code ids} in {@code dir} (kept if already there). */
    public static Path make(Path dir, String... ids) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("bash", Path.of("scripts/peer-certs.sh").toAbsolutePath().toString(), dir.toString()));
        cmd.addAll(List.of(ids));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("peer-certs.sh failed: " + new String(p.getInputStream().readAllBytes()));
        }
        return dir;
    }

    public static PeerTls tls(Path dir, String id) {
        return new PeerTls(dir.resolve(id + ".crt"), dir.resolve(id + ".key"), dir.resolve("ca.crt"));
    }

    /** {@code id}'s key and certificate from {@code keyDir}, trusting {@code caDir}'s CA. */
    public static PeerTls mixed(Path keyDir, String id, Path caDir) {
        return new PeerTls(keyDir.resolve(id + ".crt"), keyDir.resolve(id + ".key"), caDir.resolve("ca.crt"));
    }

    static boolean exists(Path dir) {
        return Files.exists(dir.resolve("ca.crt"));
    }
}
