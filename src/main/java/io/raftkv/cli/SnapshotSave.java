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
import java.util.Map;

/**
 * {@code snapshot save FILE}: the leader takes a snapshot now (POST /v1/snapshot: the state as of its applied index,
 * which covers every write acknowledged before the command started), then its newest snapshot file is downloaded
 * (GET /v1/snapshot) to FILE.part, verified with the same reader a node installs snapshots with (format, record
 * count, CRC-32C), and renamed to FILE.
 */
final class SnapshotSave {

    private final Ctl ctl;

    SnapshotSave(Ctl ctl) {
        this.ctl = ctl;
    }

    int run(Args a) {
        if (a.positional.isEmpty() || !a.positional.get(0).equals("save")) {
            throw new CtlException(Ctl.EXIT_USAGE, "expected: snapshot save FILE");
        }
        a.expect(2, 2, "snapshot save FILE");
        Path file = Path.of(a.positional.get(1)).toAbsolutePath();
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
            Files.move(part, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            long size = Files.size(file);
            if (ctl.json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("file", file.toString());
                m.put("index", h.meta().index());
                m.put("term", h.meta().term());
                m.put("keys", h.keyCount());
                m.put("sizeBytes", size);
                m.put("from", leader.toString());
                ctl.printJson(m);
            } else {
                ctl.out.println("saved snapshot at index " + h.meta().index() + ", term " + h.meta().term() + " ("
                        + h.keyCount() + " keys, " + size + " bytes, verified) from the leader " + leader + " to " + file);
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
}
