package dev.trent.web;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.AbstractProcessor;
import org.apache.coyote.Constants;
import org.apache.coyote.Request;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.SocketWrapperBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;

import dev.trent.config.TrentProperties;
import jakarta.servlet.ServletException;

/**
 * Overall deadlines for receiving a request, against slow clients ("slowloris"): Tomcat's
 * {@code connectionTimeout} bounds each read, so a client sending a byte a second could hold a
 * connection for ever. Counted from the request's first byte, its line and headers must arrive
 * within {@code trent.http.header-deadline} and its body within {@code trent.http.body-deadline};
 * a connection past either is closed (a worker blocked reading the body then sees its read
 * fail). Checked every 250 ms, on the HTTP and the HTTPS listener alike.
 */
class RequestDeadlines implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(RequestDeadlines.class);

    private final long headerNanos;
    private final long bodyNanos;
    private final List<DeadlineNioProtocol> protocols = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService sweeper;
    private final Map<String, Request> inService = new ConcurrentHashMap<>();

    RequestDeadlines(Duration header, Duration body) {
        this.headerNanos = header.toNanos();
        this.bodyNanos = body.toNanos();
        this.sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "trent-request-deadlines");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(this::sweep, 250, 250, TimeUnit.MILLISECONDS);
    }

    void watch(DeadlineNioProtocol protocol) {
        protocols.add(protocol);
    }

    void sweep() {
        try {
            long now = System.nanoTime();
            for (DeadlineNioProtocol p : protocols) {
                for (SocketWrapperBase<NioChannel> w : p.connections()) {
                    boolean overdue;
                    if (w.getCurrentProcessor() instanceof AbstractProcessor processor) {
                        // Waiting in Tomcat's poller for more of the request line and headers
                        // (Trent serves nothing asynchronously).
                        overdue = !processor.isAsync() && !processor.isUpgrade()
                                && headersOverdue(processor.getRequest(), now);
                    } else {
                        // In a worker thread, maybe blocked reading the body.
                        Request request = inService.get(key(w.getLocalPort(), w.getRemoteAddr(), w.getRemotePort()));
                        overdue = request != null && bodyOverdue(request, now);
                    }
                    if (overdue) {
                        // Tomcat's close is safe from any thread (the processor is taken
                        // atomically; a worker blocked on the socket sees its read fail, at the
                        // latest after the per-read connectionTimeout). A shorter read timeout
                        // would not do: Tomcat's poller checks it right after each read, so a
                        // byte every half second would never time out.
                        w.close();
                    }
                }
            }
        } catch (RuntimeException e) {
            log.warn("Checking request deadlines failed; trying again", e);
        }
    }

    /**
     * The request's start time is its first byte. (Its stage says nothing here: Tomcat sets it
     * only once the headers are in, so until then it is the previous request's.)
     */
    private boolean headersOverdue(Request request, long now) {
        long start = request.getStartTimeNanos();
        return start > 0 && now - start > headerNanos;
    }

    private boolean bodyOverdue(Request request, long now) {
        long start = request.getStartTimeNanos();
        int stage = request.getRequestProcessor().getStage();
        return start > 0 && now - start > bodyNanos
                && (stage == Constants.STAGE_SERVICE || stage == Constants.STAGE_ENDINPUT) && !request.isFinished();
    }

    private static String key(int localPort, String remoteAddr, int remotePort) {
        return localPort + "|" + remoteAddr + "|" + remotePort;
    }

    /**
     * Knows the requests being served, by connection: while the application runs, Tomcat has
     * taken the processor off the connection, so the sweep finds the request (and whether its
     * body is read) here.
     */
    final class ServiceValve extends ValveBase {

        ServiceValve() {
            super(true);
        }

        @Override
        public void invoke(org.apache.catalina.connector.Request request, org.apache.catalina.connector.Response response)
                throws IOException, ServletException {
            String key = key(request.getLocalPort(), request.getRemoteAddr(), request.getRemotePort());
            inService.put(key, request.getCoyoteRequest());
            try {
                getNext().invoke(request, response);
                drainUnreadBody(request, response);
            } finally {
                inService.remove(key);
            }
        }
    }

    /** Where Tomcat puts the bytes read for {@link #drainUnreadBody}: nowhere. */
    private static final class Discard implements org.apache.tomcat.util.net.ApplicationBufferHandler {
        private java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(0);

        @Override
        public void setByteBuffer(java.nio.ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public java.nio.ByteBuffer getByteBuffer() {
            return buffer;
        }

        @Override
        public void expand(int size) {
            // never asked for when reading the request body
        }
    }

    /** The most of a body left unread by the application that is read and discarded (see below). */
    static final int DRAIN_LIMIT = 64 * 1024;

    /**
     * A body the application did not read (a request refused before its body: 401, 415; a GET
     * with a body) is read and discarded here, up to {@link #DRAIN_LIMIT} bytes, where the body
     * deadline still applies; the connection then carries the next request (Tomcat's
     * max-swallow-size is the same limit, so an answer sent before the drain kept the
     * connection). Closing a connection with unread input makes the kernel send a reset, which
     * can destroy the answer before the client has read it (the fuzzer saw "connection reset" for
     * a 12 KB body on {@code GET /openapi.yaml}). A longer body, or one that cannot be read, is
     * not swallowed: the connection closes after the answer, as it did for every unread body.
     */
    static void drainUnreadBody(org.apache.catalina.connector.Request request,
            org.apache.catalina.connector.Response response) {
        Request coyote = request.getCoyoteRequest();
        if (coyote.isFinished() || request.isAsync()) {
            return;
        }
        boolean drained = false;
        if (coyote.getContentLengthLong() <= DRAIN_LIMIT) {
            try {
                // From the connection (the servlet's stream is closed once the application is done).
                Discard sink = new Discard();
                long read = 0;
                int n = 0;
                while (read <= DRAIN_LIMIT && (n = coyote.doRead(sink)) >= 0) {
                    read += n;
                }
                drained = n < 0;
            } catch (IOException | RuntimeException e) {
                // A malformed chunk, or the deadline's close.
            }
        }
        if (!drained) {
            // Tomcat must not swallow it outside the deadline: the connection closes after the
            // answer. The answer is sent first, as Tomcat would frame it: disabling the swallow
            // marks the request failed, which would turn an answer not yet sent into a 500.
            try {
                if (!response.isCommitted() && response.getCoyoteResponse().getContentLengthLong() < 0
                        && !"HEAD".equals(request.getMethod())) {
                    response.setContentLengthLong(response.getContentWritten());
                }
                response.flushBuffer();
            } catch (IOException e) {
                // the client is gone
            }
            coyote.action(org.apache.coyote.ActionCode.DISABLE_SWALLOW_INPUT, null);
        }
    }

    @Override
    public void destroy() {
        sweeper.shutdownNow();
    }

    @Configuration(proxyBeanMethods = false)
    static class Setup {

        @Bean
        RequestDeadlines requestDeadlines(TrentProperties properties) {
            return new RequestDeadlines(properties.http().headerDeadline(), properties.http().bodyDeadline());
        }

        /** Before any other customizer, so that connectors made from the factory's protocol (HTTPS) get it too. */
        @Bean
        @Order(Ordered.HIGHEST_PRECEDENCE)
        static WebServerFactoryCustomizer<TomcatServletWebServerFactory> deadlineProtocol() {
            return factory -> factory.setProtocol(DeadlineNioProtocol.class.getName());
        }

        @Bean
        WebServerFactoryCustomizer<TomcatServletWebServerFactory> deadlineValve(RequestDeadlines deadlines) {
            return factory -> factory.addEngineValves(deadlines.new ServiceValve());
        }

        @Bean
        TomcatConnectorCustomizer deadlineWatch(RequestDeadlines deadlines) {
            return connector -> {
                if (connector.getProtocolHandler() instanceof DeadlineNioProtocol p) {
                    deadlines.watch(p);
                }
            };
        }
    }
}
