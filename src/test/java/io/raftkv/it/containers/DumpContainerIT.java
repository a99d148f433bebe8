package io.raftkv.it.containers;

import static io.raftkv.it.containers.ContainerCluster.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code raftkv dump} from the image itself (run against raftkv:jvm and raftkv:native, so this is where the native
 * executable's dump entry point is checked): a one-shot container of the image with the arguments {@code dump
 * --format json /data}, on the volume of a SIGKILLed node mounted read-only, with a read-only root file system.
 */
class DumpContainerIT {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void theImageDumpsAKilledNodesVolumeMountedReadOnly() throws Exception {
        try (ContainerCluster cluster = new ContainerCluster(1)) {
            cluster.start();
            await("node1 leading", Duration.ofSeconds(60), () -> cluster.leaderAmong(cluster.ids()));
            List<String> keys = List.of("lab/x", "lab/y", "lab/z");
            for (String k : keys) {
                assertEquals(200, cluster.put("node1", k, "value of " + k, WAIT).statusCode());
            }
            cluster.kill("node1");
            String json;
            try (GenericContainer<?> dump = new GenericContainer<>(DockerImageName.parse(ContainerCluster.IMAGE))
                    .withImagePullPolicy(image -> false)
                    .withCommand("dump", "--format", "json", "/data")
                    .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                            .withBinds(new Bind(cluster.volume("node1"), new Volume("/data"), AccessMode.ro))
                            .withReadonlyRootfs(true)
                            .withTmpFs(Map.of("/tmp", "rw,size=64m")))
                    .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(120)))) {
                try {
                    dump.start(); // fails unless the container exits with status 0
                } catch (RuntimeException e) {
                    String logs;
                    try {
                        logs = dump.getLogs();
                    } catch (RuntimeException gone) {
                        logs = "(no logs: " + gone.getMessage() + ")";
                    }
                    throw new AssertionError("raftkv dump in " + ContainerCluster.IMAGE + " failed:\n" + logs, e);
                }
                json = dump.getLogs(OutputFrame.OutputType.STDOUT);
            }
            JsonNode d = new ObjectMapper().readTree(json);
            assertTrue(d.get("ok").asBoolean(), json);
            assertEquals("/data", d.get("dataDir").asText());
            assertTrue(d.get("storage").get("term").asLong() >= 1, json);
            assertEquals("node1", d.get("storage").get("votedFor").asText());
            List<String> put = new ArrayList<>();
            d.get("log").get("entries").forEach(e -> {
                if ("PUT".equals(e.path("op").asText())) {
                    put.add(e.get("key").asText());
                }
            });
            assertEquals(keys, put, "every acknowledged write in the killed node's log");
            assertTrue(d.has("stateMachine") && d.get("stateMachine").has("lastApplied"), json);
        }
    }
}
