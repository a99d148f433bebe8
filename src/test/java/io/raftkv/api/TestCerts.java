package io.raftkv.api;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away PKI for tests, made with the JDK's keytool: a CA, certificates it signs (server or client), PKCS12 key
 * stores with password {@value #PASSWORD}, and a trust store holding the CA.
 */
public final class TestCerts {

    public static final String PASSWORD = "changeit";

    private final Path dir;
    private final String caName;

    private TestCerts(Path dir, String caName) {
        this.dir = dir;
        this.caName = caName;
    }

    /** Creates the CA {@code caName} in {@code dir}, with its trust store {@code <caName>-trust.p12}. */
    public static TestCerts ca(Path dir, String caName) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        TestCerts c = new TestCerts(dir, caName);
        c.keytool("-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + caName,
                "-ext", "bc:c", "-validity", "3", "-keystore", c.store(caName));
        c.keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", c.store(caName), "-file", dir.resolve(caName + ".crt").toString());
        c.keytool("-importcert", "-noprompt", "-alias", "ca", "-file", dir.resolve(caName + ".crt").toString(),
                "-keystore", c.trustStore().toString());
        return c;
    }

    /** The trust store holding this CA's certificate. */
    public Path trustStore() {
        return dir.resolve(caName + "-trust.p12");
    }

    /** A key store {@code <name>.p12} with a key pair for subject CN {@code cn} and SANs {@code sans}, signed by the CA. */
    public Path issue(String name, String cn, String sans) throws IOException, InterruptedException {
        String ks = store(name);
        keytool("-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + cn,
                "-validity", "3", "-keystore", ks);
        Path csr = dir.resolve(name + ".csr");
        Path crt = dir.resolve(name + ".crt");
        keytool("-certreq", "-alias", name, "-keystore", ks, "-file", csr.toString());
        List<String> gencert = new ArrayList<>(List.of("-gencert", "-alias", "ca", "-keystore", store(caName),
                "-infile", csr.toString(), "-outfile", crt.toString(), "-rfc", "-validity", "3"));
        if (sans != null) {
            gencert.addAll(List.of("-ext", "san=" + sans));
        }
        keytool(gencert.toArray(String[]::new));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", dir.resolve(caName + ".crt").toString(), "-keystore", ks);
        keytool("-importcert", "-alias", name, "-file", crt.toString(), "-keystore", ks);
        return Path.of(ks);
    }

    /** An SSL context presenting {@code keyStore} (or nothing, if null) and trusting {@code trustStore}. */
    public static SSLContext context(Path keyStore, Path trustStore) throws Exception {
        KeyManagerFactory kmf = null;
        if (keyStore != null) {
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(load(keyStore), PASSWORD.toCharArray());
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(trustStore));
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private static KeyStore load(Path p) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p)) {
            ks.load(in, PASSWORD.toCharArray());
        }
        return ks;
    }

    private String store(String name) {
        return dir.resolve(name + ".p12").toString();
    }

    private void keytool(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-storetype", "PKCS12", "-storepass", PASSWORD));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + out);
        }
    }
}
