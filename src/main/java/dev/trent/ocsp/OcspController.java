package dev.trent.ocsp;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;

import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.config.TrentProperties;
import dev.trent.web.ProblemException;
import jakarta.servlet.http.HttpServletRequest;

/**
 * The OCSP responder at the URL in every certificate's AIA: {@code POST /ocsp} with
 * {@code application/ocsp-request}, and {@code GET /ocsp/<base64 request>} (RFC 6960 A.1; the
 * base64 may be URL-encoded, {@code %2B %2F %3D}, or raw {@code + / =}). OCSP-level errors are
 * OCSP responses (HTTP 200), never HTTP errors; only a wrong content type is an HTTP 400.
 */
@RestController
class OcspController {

    static final MediaType OCSP_REQUEST = MediaType.parseMediaType("application/ocsp-request");
    static final MediaType OCSP_RESPONSE = MediaType.parseMediaType("application/ocsp-response");

    private final OcspService service;
    private final Duration maxAge;

    OcspController(OcspService service, TrentProperties properties) {
        this.service = service;
        this.maxAge = properties.ocsp().maxAge();
    }

    @PostMapping("/ocsp")
    ResponseEntity<byte[]> post(HttpServletRequest request) throws IOException {
        MediaType type;
        try {
            type = request.getContentType() == null ? null : MediaType.parseMediaType(request.getContentType());
        } catch (RuntimeException e) {
            type = null;
        }
        if (type == null || !type.equalsTypeAndSubtype(OCSP_REQUEST)) {
            throw ProblemException.badRequest("invalid-request", "Not an OCSP request",
                    "POST an OCSP request with Content-Type application/ocsp-request.");
        }
        byte[] body = readAtMost(request.getInputStream(), OcspRequestDecoder.MAX_BYTES + 1);
        return answer(body);
    }

    @GetMapping("/ocsp/**")
    ResponseEntity<byte[]> get(HttpServletRequest request) {
        String raw = request.getRequestURI();
        String encoded = raw.substring(raw.indexOf("/ocsp/") + "/ocsp/".length());
        byte[] body;
        try {
            body = Base64.getDecoder().decode(percentDecode(encoded));
        } catch (IllegalArgumentException e) {
            return respond(OcspService.status(OCSPRespBuilder.MALFORMED_REQUEST));
        }
        return answer(body);
    }

    private ResponseEntity<byte[]> answer(byte[] body) {
        try {
            return respond(service.respond(OcspRequestDecoder.decode(body)));
        } catch (OcspRequestDecoder.MalformedOcspRequest e) {
            return respond(OcspService.status(OCSPRespBuilder.MALFORMED_REQUEST));
        }
    }

    /** RFC 5019 section 6 caching headers for nonce-less answers; no-store for everything else. */
    private ResponseEntity<byte[]> respond(OcspService.Answer a) {
        ResponseEntity.BodyBuilder b = ResponseEntity.status(HttpStatus.OK).contentType(OCSP_RESPONSE);
        if (a.cacheable()) {
            long seconds = Math.max(0, Math.min(maxAge.toSeconds(),
                    Duration.between(Instant.now(), a.nextUpdate()).toSeconds()));
            b.lastModified(a.thisUpdate()).eTag(a.etag())
                    .headers(h -> h.setExpires(a.nextUpdate().toEpochMilli()))
                    .header(HttpHeaders.CACHE_CONTROL, "max-age=" + seconds + ", public, no-transform, must-revalidate");
        } else {
            b.cacheControl(CacheControl.noStore());
        }
        return b.body(a.der());
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

    private static byte[] readAtMost(InputStream in, int max) throws IOException {
        try (in) {
            return in.readNBytes(max);
        }
    }
}
