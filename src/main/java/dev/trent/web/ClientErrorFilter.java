package dev.trent.web;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.springframework.http.HttpHeaders;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.web.filter.OncePerRequestFilter;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The first filter of every request. It refuses what no endpoint can use before anything parses
 * it (a {@code Content-Type} that is unparseable, a wildcard or names an unknown charset; a path
 * parameter ({@code ;}); an encoded slash outside OCSP GET, the one place it is meaningful), and turns the client errors
 * that surface as exceptions anywhere behind it ({@link ClientErrors}) into 4xx problem+json (an
 * OCSP {@code malformedRequest} under {@code /ocsp}) instead of a 500. An error status left without
 * a body is handed to Tomcat's error report, which Trent writes as problem+json too.
 */
class ClientErrorFilter extends OncePerRequestFilter {

    private static final String HEALTH = "/actuator/health/";

    private final ClientErrorLog log;

    ClientErrorFilter(ClientErrorLog log) {
        this.log = log;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        boolean ocsp = Problems.isOcspPath(request.getRequestURI());
        ProblemException refused = refuse(request, ocsp);
        if (refused != null) {
            write(request, response, refused);
            return;
        }
        if (blank(request.getHeader(HttpHeaders.ACCEPT))) {
            request = new WithoutAccept(request);
        }
        try {
            chain.doFilter(request, response);
            if (response.getStatus() >= 400 && !response.isCommitted() && response.getContentType() == null) {
                // An error status without a body (an actuator 404, a bare setStatus): Tomcat's
                // error report writes it, as problem+json (ProblemErrorReportValve).
                response.sendError(response.getStatus());
            }
        } catch (IOException | ServletException | RuntimeException e) {
            Optional<ProblemException> client = ClientErrors.classify(e);
            if (client.isEmpty() || response.isCommitted()) {
                throw e;
            }
            response.resetBuffer();
            write(request, response, client.get());
        }
    }

    /**
     * Why the request is refused before anything parses it, or null. Under {@code /ocsp} only a
     * path parameter: no OCSP request has one (base64 has no ';'), and Spring would fail to decode
     * a broken %-escape in it before any of Trent's code ran (a 500).
     */
    private static ProblemException refuse(HttpServletRequest request, boolean ocsp) {
        String uri = request.getRequestURI();
        if (uri != null && uri.indexOf(';') >= 0) {
            return ProblemException.invalidRequest("Trent's URLs take no path parameters (';').");
        }
        if (ocsp) {
            return null;
        }
        if (uri != null && uri.toLowerCase(Locale.ROOT).contains("%2f")) {
            return ProblemException.notFound("No such resource (an encoded slash, %2F, is only meaningful in an "
                    + "OCSP GET URL).");
        }
        if (uri != null && uri.startsWith(HEALTH) && uri.indexOf('/', HEALTH.length()) >= 0) {
            // Actuator throws on a group path of several segments; the API has one ({group}).
            return ProblemException.notFound("No such health group.");
        }
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        return type == null ? null : contentTypeProblem(type);
    }

    private static boolean blank(String s) {
        return s != null && s.isBlank();
    }

    /**
     * An empty {@code Accept} is taken as no {@code Accept} (RFC 9110 12.5.1: any media type),
     * as {@link MediaTypes#negotiate} does; some framework endpoints (Prometheus) failed on it.
     */
    private static final class WithoutAccept extends HttpServletRequestWrapper {
        WithoutAccept(HttpServletRequest request) {
            super(request);
        }

        @Override
        public String getHeader(String name) {
            return HttpHeaders.ACCEPT.equalsIgnoreCase(name) ? null : super.getHeader(name);
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            return HttpHeaders.ACCEPT.equalsIgnoreCase(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
        }

        @Override
        public Enumeration<String> getHeaderNames() {
            List<String> names = Collections.list(super.getHeaderNames());
            names.removeIf(HttpHeaders.ACCEPT::equalsIgnoreCase);
            return Collections.enumeration(names);
        }
    }

    /** Why a {@code Content-Type} header cannot describe a request body, or null when it can. */
    static ProblemException contentTypeProblem(String type) {
        MediaType mediaType;
        try {
            mediaType = MediaType.parseMediaType(type);
        } catch (InvalidMediaTypeException e) {
            return ClientErrors.unsupportedMediaType("The Content-Type header cannot be parsed as a media type "
                    + "(RFC 9110 8.3).");
        }
        if (mediaType.isWildcardType() || mediaType.isWildcardSubtype()) {
            return ClientErrors.unsupportedMediaType("Content-Type must name one media type, not a wildcard such as '"
                    + mediaType.getType() + "/" + mediaType.getSubtype() + "'.");
        }
        String charset = mediaType.getParameter("charset");
        if (charset != null) {
            String name = charset.length() > 1 && charset.startsWith("\"") && charset.endsWith("\"")
                    ? charset.substring(1, charset.length() - 1) : charset;
            boolean supported;
            try {
                supported = Charset.isSupported(name);
            } catch (IllegalCharsetNameException e) {
                supported = false;
            }
            if (!supported) {
                return ClientErrors.unsupportedMediaType("The charset in Content-Type is not one Trent knows; send "
                        + "UTF-8 or leave the charset out.");
            }
        }
        return null;
    }

    private void write(HttpServletRequest request, HttpServletResponse response, ProblemException p)
            throws IOException {
        log.log(request, p);
        if (Problems.isOcspPath(request.getRequestURI())) {
            Problems.writeOcsp(response, HttpServletResponse.SC_OK, Problems.OCSP_MALFORMED_REQUEST);
        } else {
            Problems.write(response, p.status().value(), p.type(), p.toProblemDetail().getTitle(), p.getMessage());
        }
    }
}
