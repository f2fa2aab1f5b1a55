package dev.trent.ocsp;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Locale;

import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.util.UriUtils;

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
 * A conditional GET for a cacheable answer ({@code If-None-Match}, else {@code If-Modified-Since};
 * what HTTP caches in front of the responder send, RFC 5019 6.2) gets 304 without a body when
 * the answer is unchanged.
 */
@Component
class OcspHttp {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OcspHttp.class);

    static final String OCSP_REQUEST = "application/ocsp-request";
    static final String OCSP_RESPONSE = "application/ocsp-response";

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
            write(response, answer(body, null));
        } else if ("GET".equals(method) && uri.startsWith("/ocsp/")) {
            String encoded = uri.substring("/ocsp/".length());
            OcspService.Answer a = service.presigned(encoded);
            if (a == null) {
                byte[] body;
                try {
                    body = Base64.getDecoder().decode(percentDecode(encoded));
                } catch (IllegalArgumentException e) {
                    write(response, malformed());
                    return;
                }
                a = answer(body, encoded);
            }
            if (!notModified(request, response, a)) {
                write(response, a);
            }
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

    /** @param encodedGet the GET's request as sent (the path after {@code /ocsp/}); null for a POST */
    private OcspService.Answer answer(byte[] body, String encodedGet) {
        try {
            return service.respond(OcspRequestDecoder.decode(body), encodedGet);
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
        writeHeaders(response, a, status);
        response.setContentLength(a.der().length);
        response.getOutputStream().write(a.der());
    }

    private void writeHeaders(HttpServletResponse response, OcspService.Answer a, int status) {
        response.setStatus(status);
        response.setContentType(OCSP_RESPONSE);
        if (a.cacheable()) {
            long seconds = Math.max(0, Math.min(maxAge.toSeconds(),
                    Duration.between(clock.instant(), a.nextUpdate()).toSeconds()));
            response.setDateHeader("Last-Modified", a.thisUpdate().toEpochMilli());
            response.setDateHeader("Expires", a.nextUpdate().toEpochMilli());
            response.setHeader("ETag", a.etag());
            response.setHeader("Cache-Control", "max-age=" + seconds + ", public, no-transform, must-revalidate");
        } else {
            response.setHeader("Cache-Control", "no-store");
        }
    }

    /**
     * RFC 9110 13.2: a GET for a cacheable answer with {@code If-None-Match} (weak comparison) or,
     * without it, {@code If-Modified-Since} gets 304 with the caching headers and no body when
     * the answer has not changed (Spring's {@link ServletWebRequest#checkNotModified}). Requests
     * with {@code If-Match} or {@code If-Unmodified-Since} are answered in full: a 412 would not be
     * an OCSP response.
     */
    private boolean notModified(HttpServletRequest request, HttpServletResponse response, OcspService.Answer a) {
        if (!a.cacheable() || request.getHeader(HttpHeaders.IF_NONE_MATCH) == null
                && request.getHeader(HttpHeaders.IF_MODIFIED_SINCE) == null
                || request.getHeader(HttpHeaders.IF_MATCH) != null
                || request.getHeader(HttpHeaders.IF_UNMODIFIED_SINCE) != null) {
            return false;
        }
        writeHeaders(response, a, HttpServletResponse.SC_OK);
        return new ServletWebRequest(request, response).checkNotModified(a.etag(), a.thisUpdate().toEpochMilli());
    }

    /**
     * Decodes %XX escapes only (Spring's {@link UriUtils#decode}, RFC 3986 2.1): a raw '+' stays
     * '+' (it is base64, not a form-encoded space).
     *
     * @throws IllegalArgumentException on a '%' not followed by two hexadecimal digits
     */
    static String percentDecode(String s) {
        return UriUtils.decode(s, StandardCharsets.US_ASCII);
    }
}
