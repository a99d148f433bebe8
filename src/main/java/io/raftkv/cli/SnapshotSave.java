package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.raftkv.snapshot.SnapshotFileReader;
import io.raftkv.snapshot.SnapshotHeader;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code snapshot save FILE}: the leader takes a snapshot now (POST /v1/snapshot: the state as of its applied index,
 * which covers every write acknowledged before the command started), then its newest snapshot file is downloaded
 * (GET /v1/snapshot) to FILE.part, verified with the same reader a node installs snapshots with (format, record
 * count, CRC-32C), and renamed to FILE.
 */
final class SnapshotSave {

    /** Names of the files {@code --dir} saves: raftkv-20261201T193000Z-1234.snap (sorted by name = by time). */
    static final String BACKUP_PREFIX = "raftkv-";
    private static final java.time.format.DateTimeFormatter STAMP = java.time.format.DateTimeFormatter
            .ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC);
    private static final java.util.regex.Pattern BACKUP = java.util.regex.Pattern.compile("raftkv-\\d{8}T\\d{6}Z-\\d+\\.snap");

    private final Ctl ctl;

    SnapshotSave(Ctl ctl) {
        this.ctl = ctl;
    }

    int run(Args a) {
        if (a.positional.isEmpty() || !a.positional.get(0).equals("save")) {
            throw new CtlException(Ctl.EXIT_USAGE, "expected: snapshot save FILE");
        }
        Path file;
        long retain = a.number("retain", 1, 0);
        if (a.has("dir")) {
            a.expect(1, 1, "snapshot save --dir DIR [--retain N]");
            Path dir = Path.of(a.get("dir")).toAbsolutePath();
            if (!Files.isDirectory(dir)) {
                throw new CtlException(Ctl.EXIT_USAGE, "no such directory: " + dir);
            }
            // the index is not known before the download: a temporary name, renamed once verified (below)
            file = dir.resolve(BACKUP_PREFIX + STAMP.format(java.time.Instant.now()) + ".snap");
        } else {
            if (a.has("retain")) {
                throw new CtlException(Ctl.EXIT_USAGE, "--retain goes with --dir");
            }
            a.expect(2, 2, "snapshot save FILE");
            file = Path.of(a.positional.get(1)).toAbsolutePath();
        }
        if (file.getParent() != null && !Files.isDirectory(file.getParent())) {
            throw new CtlException(Ctl.EXIT_USAGE, "no such directory: " + file.getParent());
        }
        URI leader = ClusterView.gather(ctl.client).leaderUrl();
        CtlClient.Answer taken = ctl.client.at(leader, "POST", "/v1/snapshot", null);
        if (taken == null) {
            throw new CtlException(Ctl.EXIT_UNAVAILABLE, "the leader at " + leader + " cannot be reached");
        }
        if (taken.status() != 200) {
            throw Ctl.failure(taken, "snapshot on the leader " + leader);
        }
        JsonNode t = taken.json();
        Path part = file.resolveSibling(file.getFileName() + ".part");
        try {
            HttpResponse<InputStream> r = ctl.client.stream(leader, "/v1/snapshot", Map.of(), null);
            if (r.statusCode() != 200) {
                throw Ctl.failure(new CtlClient.Answer(r.statusCode(), r.body().readAllBytes(), r, leader), "snapshot download");
            }
            try (InputStream in = r.body(); OutputStream out = Files.newOutputStream(part)) {
                in.transferTo(out);
            }
            SnapshotHeader h;
            try {
                h = SnapshotFileReader.verify(part);
            } catch (RuntimeException e) {
                throw new CtlException(Ctl.EXIT_FAILED, "the downloaded snapshot is damaged: " + e.getMessage());
            }
            if (h.meta().index() < t.path("index").asLong()) {
                throw new CtlException(Ctl.EXIT_FAILED, "the leader served snapshot " + h.meta() + ", older than the "
                        + t.path("index").asLong() + " it just took: try again");
            }
            if (a.has("dir")) {
                String name = file.getFileName().toString();
                file = file.resolveSibling(name.substring(0, name.length() - ".snap".length()) + "-" + h.meta().index() + ".snap");
            }
            Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            long size = Files.size(file);
            List<Path> pruned = retain > 0 ? prune(file.getParent(), retain) : List.of();
            if (ctl.json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file", file.toString());
                m.put("index", h.meta().index());
                m.put("term", h.meta().term());
                m.put("keys", h.keyCount());
                m.put("sizeBytes", size);
                m.put("from", leader.toString());
                m.put("deleted", pruned.stream().map(Path::toString).toList());
                ctl.printJson(m);
            } else {
                ctl.out.println("saved snapshot at index " + h.meta().index() + ", term " + h.meta().term() + " ("
                        + h.keyCount() + " keys, " + size + " bytes, verified) from the leader " + leader + " to " + file);
                for (Path p : pruned) {
                    ctl.out.println("deleted old backup " + p + " (--retain " + retain + ")");
                }
            }
            return Ctl.EXIT_OK;
        } catch (IOException e) {
            throw new CtlException(Ctl.EXIT_UNAVAILABLE, "snapshot download from " + leader + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CtlException(Ctl.EXIT_FAILED, "interrupted");
        } finally {
            try {
                Files.deleteIfExists(part);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    /** Deletes the oldest backups in {@code dir} (files named as {@code --dir} names them) beyond the newest {@code keep}. */
    static List<Path> prune(Path dir, long keep) throws IOException {
        List<Path> backups;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            backups = s.filter(p -> BACKUP.matcher(p.getFileName().toString()).matches())
                    .sorted(java.util.Comparator.comparing((Path p) -> p.getFileName().toString()).reversed()).toList();
        }
        List<Path> deleted = new java.util.ArrayList<>();
        for (Path old : backups.subList((int) Math.min(keep, backups.size()), backups.size())) {
            Files.deleteIfExists(old);
            deleted.add(old);
        }
        return deleted;
    }
}
