package dev.trent.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

import jakarta.servlet.http.HttpServletResponse;
import tools.jackson.databind.json.JsonMapper;

/** Writing an error straight to the servlet response, where Spring MVC is not involved. */
final class Problems {

    /**
     * The OCSPResponse {@code malformedRequest} (RFC 6960 4.2.1: a SEQUENCE holding only the
     * ENUMERATED responseStatus 1; no responseBytes, so nothing to sign).
     */
    static final byte[] OCSP_MALFORMED_REQUEST = {0x30, 0x03, 0x0a, 0x01, 0x01};
    /** The OCSPResponse {@code internalError} (responseStatus 2). */
    static final byte[] OCSP_INTERNAL_ERROR = {0x30, 0x03, 0x0a, 0x01, 0x02};

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private Problems() {
    }

    /** The OCSP responder's paths: they answer in OCSP, whatever goes wrong. */
    static boolean isOcspPath(String uri) {
        return uri != null && (uri.equals("/ocsp") || uri.startsWith("/ocsp/") || uri.startsWith("/ocsp;"));
    }

    /** The stable problem type slug of an HTTP status that has no more specific one. */
    static String typeFor(int status) {
        return switch (status) {
            case 400 -> "invalid-request";
            case 401 -> "unauthorized";
            case 403 -> "forbidden";
            case 404 -> "not-found";
            case 405 -> "method-not-allowed";
            case 406 -> "not-acceptable";
            case 413 -> "payload-too-large";
            case 415 -> "unsupported-media-type";
            case 500 -> "internal-error";
            default -> "http-" + status;
        };
    }

    static String title(int status) {
        HttpStatus s = HttpStatus.resolve(status);
        return s == null ? "HTTP " + status : s.getReasonPhrase();
    }

    static byte[] problemJson(int status, String type, String title, String detail) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", ProblemException.TYPE_BASE + type);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", detail);
        return JSON.writeValueAsString(body).getBytes(StandardCharsets.UTF_8);
    }

    static void write(HttpServletResponse response, int status, String type, String title, String detail)
            throws IOException {
        byte[] body = problemJson(status, type, title, detail);
        response.setStatus(status);
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        response.setContentLength(body.length);
        response.getOutputStream().write(body);
    }

    static void writeOcsp(HttpServletResponse response, int status, byte[] der) throws IOException {
        response.setStatus(status);
        response.setHeader(HttpHeaders.CACHE_CONTROL, "no-store");
        response.setContentType("application/ocsp-response");
        response.setContentLength(der.length);
        response.getOutputStream().write(der);
    }
}
