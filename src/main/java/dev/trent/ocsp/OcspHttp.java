package dev.trent.ocsp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;

import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.springframework.stereotype.Component;

import dev.trent.config.TrentProperties;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The OCSP responder's HTTP side, shared by {@link OcspFastPathFilter} (which answers before
 * Spring Security and Spring MVC; OCSP is public and needs neither) and {@link OcspController}
 * (which answers when the fast path is switched off). {@code POST /ocsp} with
 * {@code application/ocsp-request}; {@code GET /ocsp/<base64>} (RFC 6960 A.1; percent-encoded
 * or raw {@code + / =}). Errors are OCSP responses (HTTP 200), never problem+json: a POST with
 * another Content-Type is a {@code malformedRequest} too, and another method a 405 carrying one.
 */
@Component
class OcspHttp {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OcspHttp.class);

    static final String OCSP_REQUEST = "application/ocsp-request";
    static final String OCSP_RESPONSE = "application/ocsp-response";
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final OcspService service;
    private final Duration maxAge;
    private final OcspMetrics metrics;
    private final Clock clock;

    OcspHttp(OcspService service, TrentProperties properties, OcspMetrics metrics, Clock clock) {
        this.service = service;
        this.clock = clock;
        this.metrics = metrics;
        this.maxAge = properties.ocsp().maxAge();
    }

    static boolean isOcspPath(String path) {
        return path.equals("/ocsp") || path.startsWith("/ocsp/");
    }

    /**
     * Answers in OCSP whatever happens: a request it cannot read (wrong or broken Content-Type,
     * bad base64, bad DER) gets {@code malformedRequest}, another method a 405 whose body is
     * {@code malformedRequest}, and an unexpected failure behind it {@code internalError}.
     */
    void handle(HttpServletRequest request, HttpServletResponse response) throws IOException {
        try {
            dispatch(request, response);
        } catch (RuntimeException e) {
            log.error("OCSP request failed; answered internalError", e);
            metrics.record(OcspMetrics.Status.INTERNAL_ERROR, OcspMetrics.Cache.BYPASS);
            if (!response.isCommitted()) {
                response.reset();
                write(response, OcspService.status(OCSPRespBuilder.INTERNAL_ERROR));
            }
        }
    }

    private void dispatch(HttpServletRequest request, HttpServletResponse response) throws IOException {
        String method = request.getMethod();
        String uri = request.getRequestURI();
        if ("POST".equals(method) && uri.equals("/ocsp")) {
            if (!isOcspRequestType(request.getContentType())) {
                write(response, malformed());
                return;
            }
            byte[] body;
            try (InputStream in = request.getInputStream()) {
                body = in.readNBytes(OcspRequestDecoder.MAX_BYTES + 1);
            }
            write(response, answer(body));
        } else if ("GET".equals(method) && uri.startsWith("/ocsp/")) {
            byte[] body;
            try {
                body = Base64.getDecoder().decode(percentDecode(uri.substring("/ocsp/".length())));
            } catch (IllegalArgumentException e) {
                write(response, malformed());
                return;
            }
            write(response, answer(body));
        } else {
            response.setHeader("Allow", uri.equals("/ocsp") ? "POST" : "GET");
            write(response, malformed(), HttpServletResponse.SC_METHOD_NOT_ALLOWED);
        }
    }

    /** RFC 6960 A.1: {@code application/ocsp-request}; parameters are ignored, a broken header is no match. */
    static boolean isOcspRequestType(String contentType) {
        if (contentType == null) {
            return false;
        }
        int semicolon = contentType.indexOf(';');
        String type = semicolon < 0 ? contentType : contentType.substring(0, semicolon);
        return type.strip().toLowerCase(Locale.ROOT).equals(OCSP_REQUEST);
    }

    private OcspService.Answer answer(byte[] body) {
        try {
            return service.respond(OcspRequestDecoder.decode(body));
        } catch (OcspRequestDecoder.MalformedOcspRequest e) {
            return malformed();
        }
    }

    /** malformedRequest, counted (requests that {@link OcspService} never sees). */
    private OcspService.Answer malformed() {
        metrics.record(OcspMetrics.Status.MALFORMED, OcspMetrics.Cache.BYPASS);
        return OcspService.status(OCSPRespBuilder.MALFORMED_REQUEST);
    }

    /** RFC 5019 section 6 caching headers for nonce-less answers; no-store for everything else. */
    private void write(HttpServletResponse response, OcspService.Answer a) throws IOException {
        write(response, a, HttpServletResponse.SC_OK);
    }

    private void write(HttpServletResponse response, OcspService.Answer a, int status) throws IOException {
        response.setStatus(status);
        response.setContentType(OCSP_RESPONSE);
        if (a.cacheable()) {
            long seconds = Math.max(0, Math.min(maxAge.toSeconds(),
                    Duration.between(clock.instant(), a.nextUpdate()).toSeconds()));
            response.setHeader("Last-Modified", HTTP_DATE.format(a.thisUpdate()));
            response.setHeader("Expires", HTTP_DATE.format(a.nextUpdate()));
            response.setHeader("ETag", a.etag());
            response.setHeader("Cache-Control", "max-age=" + seconds + ", public, no-transform, must-revalidate");
        } else {
            response.setHeader("Cache-Control", "no-store");
        }
        response.setContentLength(a.der().length);
        response.getOutputStream().write(a.der());
    }

    /** Decodes %XX escapes only: a raw '+' stays '+' (it is base64, not a form-encoded space). */
    static String percentDecode(String s) {
        if (s.indexOf('%') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) {
                    throw new IllegalArgumentException("bad percent escape");
                }
                int hi = Character.digit(s.charAt(i + 1), 16);
                int lo = Character.digit(s.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    throw new IllegalArgumentException("bad percent escape");
                }
                out.write(hi * 16 + lo);
                i += 2;
            } else {
                out.write(c);
            }
        }
        return out.toString(StandardCharsets.US_ASCII);
    }
}
