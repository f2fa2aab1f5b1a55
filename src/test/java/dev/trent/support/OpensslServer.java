package dev.trent.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** {@code openssl s_server} for one connection, on a free port, with its output collected. */
public final class OpensslServer {

    private OpensslServer() {
    }

    /** What the client returned, and everything s_server printed. */
    public record Result<T>(T client, String serverOutput) {
    }

    /** The client's side of the connection, given the port s_server listens on. */
    @FunctionalInterface
    public interface Client<T> {
        T connect(int port) throws Exception;
    }

    /**
     * Starts {@code openssl s_server -accept <port> -naccept 1 <args>} in {@code dir}, waits until
     * it accepts, runs {@code client}, and returns once s_server has ended (or after 10 s).
     */
    public static <T> Result<T> oneConnection(Path dir, List<String> args, Client<T> client) throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of("openssl", "s_server", "-accept", Integer.toString(port),
                "-naccept", "1"));
        command.addAll(args);
        Process server = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        StringBuffer out = new StringBuffer();
        CountDownLatch ready = new CountDownLatch(1);
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(server.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null;) {
                    out.append(line).append('\n');
                    if (line.contains("ACCEPT")) {
                        ready.countDown();
                    }
                }
            } catch (IOException e) {
                out.append(e);
            }
        });
        reader.start();
        try {
            assertThat(ready.await(10, TimeUnit.SECONDS)).as("s_server ready: " + out).isTrue();
            T result = client.connect(port);
            server.waitFor(10, TimeUnit.SECONDS);
            reader.join(2000);
            return new Result<>(result, out.toString());
        } finally {
            server.destroyForcibly();
        }
    }
}
