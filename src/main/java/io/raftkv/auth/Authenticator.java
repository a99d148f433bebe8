package io.raftkv.auth;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * The current credentials, from {@code raftkv.auth.tokens-file}, re-read when the file changes (its modification
 * time, size or identity: a Kubernetes Secret volume swaps a symlink), checked once a second. A file that cannot be
 * read or parsed keeps the previous good set and logs one error per broken version; with no good set yet (a broken
 * file at start) nobody is authenticated: authentication fails closed.
 */
@ApplicationScoped
public class Authenticator {

    private static final Logger LOG = Logger.getLogger(Authenticator.class);

    @Inject
    AuthConfig config;

    private volatile boolean enabled;
    private volatile Path file;
    private volatile Credentials credentials = Credentials.EMPTY;
    /** What the file looked like when last read (good or bad), so that an unchanged file is not read again. */
    private volatile String seenVersion;
    private volatile String error;
    private volatile long reloads;

    void onStart(@Observes StartupEvent event) {
        configure(config.enabled().orElse(null), config.tokensFile().orElse(null));
    }

    /** Sets the mode and reads the file (also for tests). */
    synchronized void configure(Boolean enabledFlag, String tokensFile) {
        boolean hasFile = tokensFile != null && !tokensFile.isBlank();
        if (Boolean.TRUE.equals(enabledFlag) && !hasFile) {
            throw new IllegalStateException("raftkv.auth.enabled=true needs raftkv.auth.tokens-file");
        }
        enabled = hasFile && !Boolean.FALSE.equals(enabledFlag);
        file = enabled ? Path.of(tokensFile).toAbsolutePath() : null;
        credentials = Credentials.EMPTY;
        seenVersion = null;
        if (enabled) {
            reloadIfChanged();
            LOG.infof("client authentication is on: %d token(s) and %d client-certificate principal(s) from %s",
                    credentials.tokenCount(), credentials.certPrincipalCount(), file);
        } else {
            LOG.info("client authentication is off (no raftkv.auth.tokens-file): every client may do everything");
        }
    }

    @Scheduled(every = "1s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void check() {
        if (enabled) {
            reloadIfChanged();
        }
    }

    /** Reads the file again if it changed since it was last read; returns whether a new set was taken. */
    synchronized boolean reloadIfChanged() {
        Path f = file;
        String version;
        try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            version = a.lastModifiedTime().toMillis() + "/" + a.size() + "/" + a.fileKey();
        } catch (IOException e) {
            version = "unreadable: " + e;
        }
        if (Objects.equals(version, seenVersion)) {
            return false;
        }
        seenVersion = version;
        try {
            Credentials parsed = Credentials.parse(Files.readString(f, StandardCharsets.UTF_8));
            boolean first = reloads == 0 && error == null;
            credentials = parsed;
            error = null;
            reloads++;
            if (!first) {
                LOG.infof("tokens file %s reloaded: %d token(s), %d client-certificate principal(s)", f,
                        parsed.tokenCount(), parsed.certPrincipalCount());
            }
            return true;
        } catch (IOException | RuntimeException e) {
            // The message names the line and what is wrong with it, never a token.
            error = e instanceof IOException ? "cannot read it: " + e : e.getMessage();
            LOG.errorf("tokens file %s is not usable (%s); keeping the %s", f, error,
                    reloads == 0 ? "empty set: nobody is authenticated until it is fixed" : "previous set");
            return false;
        }
    }

    public boolean enabled() {
        return enabled;
    }

    public Credentials credentials() {
        return credentials;
    }

    /** Why the tokens file was last refused, or null when the current file is in use. */
    public String error() {
        return error;
    }
}
