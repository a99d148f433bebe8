package io.raftkv.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** put, get, del, list, watch. */
final class KvCommands {

    private final Ctl ctl;

    KvCommands(Ctl ctl) {
        this.ctl = ctl;
    }

    int run(String cmd, List<String> args) {
        return switch (cmd) {
            case "put" -> put(ctl.parse(args, Set.of("file", "if-version", "if-value"), Set.of()));
            case "get" -> get(ctl.parse(args, Set.of(), Set.of("stale")));
            case "del" -> del(ctl.parse(args, Set.of("if-version", "if-value"), Set.of()));
            case "list" -> list(ctl.parse(args, Set.of("limit"), Set.of("stale")));
            default -> watch(ctl.parse(args, Set.of("from-index", "count"), Set.of("no-values")));
        };
    }

    private static String conditions(Args a) {
        StringBuilder q = new StringBuilder();
        if (a.has("if-version")) {
            q.append("?ifVersion=").append(a.number("if-version", 0, 0));
        }
        if (a.has("if-value")) {
            q.append(q.length() == 0 ? '?' : '&').append("ifValue=").append(CtlClient.q(a.get("if-value")));
        }
        return q.toString();
    }

    private static String key(Args a) {
        String k = a.positional.get(0);
        if (k.isEmpty()) {
            throw new CtlException(Ctl.EXIT_USAGE, "the key must not be empty");
        }
        return k;
    }

    private int put(Args a) {
        byte[] value;
        if (a.has("file")) {
            a.expect(1, 1, "KEY (the value comes from --file)");
            value = readFile(a.get("file"));
        } else {
            a.expect(2, 2, "KEY VALUE");
            value = a.positional.get(1).getBytes(StandardCharsets.UTF_8);
        }
        String key = key(a);
        CtlClient.Answer r = ctl.client.write("PUT", "/v1/kv/" + CtlClient.keyPath(key) + conditions(a), value);
        if (r.status() != 200) {
            throw Ctl.failure(r, "put " + key);
        }
        JsonNode j = r.json();
        if (ctl.json) {
            ctl.printJson(j);
        } else {
            ctl.out.println("OK " + key + " version " + j.path("version").asLong() + " (index " + j.path("index").asLong()
                    + ", term " + j.path("term").asLong() + ")");
        }
        return Ctl.EXIT_OK;
    }

    private static byte[] readFile(String f) {
        try {
            return f.equals("-") ? System.in.readAllBytes() : Files.readAllBytes(Path.of(f));
        } catch (IOException e) {
            throw new CtlException(Ctl.EXIT_USAGE, "cannot read " + f + ": " + e.getMessage());
        }
    }

    private int get(Args a) {
        a.expect(1, 1, "KEY");
        String key = key(a);
        CtlClient.Answer r = ctl.client.get("/v1/kv/" + CtlClient.keyPath(key) + (a.has("stale") ? "?consistency=stale" : ""));
        if (r.status() == 404) {
            throw new CtlException(Ctl.EXIT_NOT_FOUND, "no such key: " + key);
        }
        if (r.status() != 200) {
            throw Ctl.failure(r, "get " + key);
        }
        if (ctl.json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", key);
            m.put("version", Long.parseLong(r.header("X-Raftkv-Version")));
            String text = utf8(r.body());
            m.put(text != null ? "value" : "valueBase64", text != null ? text : java.util.Base64.getEncoder().encodeToString(r.body()));
            ctl.printJson(m);
        } else {
            ctl.out.write(r.body(), 0, r.body().length);
            if (r.body().length > 0 && r.body()[r.body().length - 1] != '\n' && utf8(r.body()) != null) {
                ctl.out.println();
            }
        }
        return Ctl.EXIT_OK;
    }

    static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }

    private int del(Args a) {
        a.expect(1, 1, "KEY");
        String key = key(a);
        CtlClient.Answer r = ctl.client.write("DELETE", "/v1/kv/" + CtlClient.keyPath(key) + conditions(a), null);
        if (r.status() != 200) {
            throw Ctl.failure(r, "del " + key);
        }
        JsonNode j = r.json();
        if (ctl.json) {
            ctl.printJson(j);
        } else {
            ctl.out.println((j.path("deleted").asBoolean() ? "deleted " + key : key + " did not exist") + " (index "
                    + j.path("index").asLong() + ")");
        }
        return Ctl.EXIT_OK;
    }

    private int list(Args a) {
        a.expect(0, 1, "at most a PREFIX");
        String prefix = a.positional.isEmpty() ? "" : a.positional.get(0);
        long limit = a.number("limit", 1, 1000);
        CtlClient.Answer r = ctl.client.get("/v1/kv?prefix=" + CtlClient.q(prefix) + "&limit=" + limit
                + (a.has("stale") ? "&consistency=stale" : ""));
        if (r.status() != 200) {
            throw Ctl.failure(r, "list");
        }
        JsonNode j = r.json();
        if (ctl.json) {
            ctl.printJson(j);
            return Ctl.EXIT_OK;
        }
        Table t = new Table("KEY", "VERSION", "SIZE");
        for (JsonNode k : j.path("keys")) {
            t.row(k.path("key").asText(), k.path("version").asText(), k.path("size").asText());
        }
        t.print(ctl.out);
        if (j.path("more").asBoolean()) {
            ctl.err.println("(more keys follow: raise --limit)");
        }
        return Ctl.EXIT_OK;
    }

    private int watch(Args a) {
        a.expect(0, 1, "at most a PREFIX");
        String prefix = a.positional.isEmpty() ? "" : a.positional.get(0);
        long from = a.number("from-index", 0, 0);
        long count = a.number("count", 1, Long.MAX_VALUE);
        boolean values = !a.has("no-values");
        long lastSeen = from > 0 ? from - 1 : -1;
        long printed = 0;
        List<URI> endpoints = ctl.client.endpoints();
        int failuresInARow = 0;
        for (int attempt = 0; ; attempt++) {
            URI base = endpoints.get(attempt % endpoints.size());
            String q = "/v1/watch?prefix=" + CtlClient.q(prefix) + (values ? "" : "&values=false");
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Accept", "text/event-stream");
            if (lastSeen >= 0) {
                headers.put("Last-Event-ID", Long.toString(lastSeen));
            }
            try {
                HttpResponse<InputStream> r = ctl.client.stream(base, q, headers, null);
                if (r.statusCode() != 200) {
                    byte[] body = r.body().readAllBytes();
                    CtlClient.Answer ans = new CtlClient.Answer(r.statusCode(), body, r, base);
                    if (r.statusCode() == 410) {
                        JsonNode j = ans.json();
                        throw new CtlException(Ctl.EXIT_GONE, "index " + (lastSeen + 1) + " is no longer retained on "
                                + base + ": list the keys again, then watch with --from-index "
                                + j.path("relistThenWatchFrom").asLong());
                    }
                    if (r.statusCode() != 503 && r.statusCode() != 429) {
                        throw Ctl.failure(ans, "watch");
                    }
                    failuresInARow++;
                } else {
                    failuresInARow = 0;
                    try (SseReader sse = new SseReader(r.body())) {
                        SseReader.Event e;
                        while ((e = sse.next()) != null) {
                            if (e.name().equals("put") || e.name().equals("delete")) {
                                printEvent(e);
                                lastSeen = Long.parseLong(e.id());
                                if (++printed >= count) {
                                    return Ctl.EXIT_OK;
                                }
                            } else if (e.name().equals("progress")) {
                                lastSeen = Math.max(lastSeen, Long.parseLong(e.id()));
                            } else if (e.name().equals("cut-off")) {
                                JsonNode d = CtlClient.JSON.readTree(e.data());
                                if (d.path("relist").asBoolean()) {
                                    throw new CtlException(Ctl.EXIT_GONE, "the watch was cut off by " + base + ": "
                                            + d.path("detail").asText() + "; list the keys again, then watch anew");
                                }
                                ctl.err.println("raftkvctl: watch cut off by " + base + " (" + d.path("detail").asText()
                                        + "); resuming");
                                break;
                            }
                        }
                    }
                }
            } catch (IOException e) {
                failuresInARow++;
                ctl.err.println("raftkvctl: watch connection to " + base + " lost (" + e.getMessage() + "); trying the next endpoint");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Ctl.EXIT_FAILED;
            }
            if (failuresInARow >= 3 * endpoints.size()) {
                throw new CtlException(Ctl.EXIT_UNAVAILABLE, "no endpoint serves the watch: " + endpoints);
            }
            CtlClient.sleep(Math.min(1000, 100L * (failuresInARow + 1)));
        }
    }

    private void printEvent(SseReader.Event e) throws IOException {
        JsonNode d = CtlClient.JSON.readTree(e.data());
        if (ctl.json) {
            ctl.out.println(e.data());
        } else if (e.name().equals("put")) {
            String v = d.has("value") ? d.get("value").asText() : d.has("valueBase64") ? "(base64) " + d.get("valueBase64").asText() : null;
            ctl.out.println("PUT " + d.path("key").asText() + (v == null ? "" : " = " + v) + "  (version "
                    + d.path("version").asLong() + ", index " + d.path("index").asLong() + ")");
        } else {
            ctl.out.println("DELETE " + d.path("key").asText() + "  (index " + d.path("index").asLong() + ")");
        }
        ctl.out.flush();
    }
}
