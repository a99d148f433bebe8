package io.raftkv.auth;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.util.Optional;

/**
 * Client authentication ({@code raftkv.auth.*}, or {@code RAFTKV_AUTH_*}). Authentication is on exactly when a tokens
 * file is configured, unless {@code raftkv.auth.enabled=false} turns it off explicitly.
 */
@ConfigMapping(prefix = "raftkv.auth")
public interface AuthConfig {

    /** The tokens file (see {@link Credentials} for its format); re-read within a second of any change. */
    Optional<String> tokensFile();

    /** Force authentication off (false) or require a tokens file (true); unset: on iff a tokens file is given. */
    Optional<Boolean> enabled();

    /** Whether /q/metrics is served without credentials while authentication is on (scrapers often carry none). */
    @WithDefault("true")
    boolean metricsOpen();
}
