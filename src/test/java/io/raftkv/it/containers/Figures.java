package io.raftkv.it.containers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/** Measurements the integration suite reports (printed, and appended to target/it-figures.txt for the README). */
final class Figures {

    private Figures() {
    }

    static void record(String name, String value) {
        String line = Instant.now() + " image=" + ContainerCluster.IMAGE + " " + name + ": " + value;
        System.out.println("[figure] " + line);
        try {
            Files.writeString(Path.of("target/it-figures.txt"), line + System.lineSeparator(),
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("[figure] could not write target/it-figures.txt: " + e);
        }
    }
}
