package dev.trent.web;


import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import jakarta.servlet.http.HttpServletRequest;

import dev.trent.config.LineLimit;

/**
 * Logs client errors (4xx that Trent did not expect to be worth a line elsewhere: undecodable
 * requests, refused media types; values PostgreSQL cannot store at WARN) at INFO in one line without a
 * stack trace: status, problem type, method, path without its query string, remote address and
 * Trent's own detail; never an exception's message, which may quote a form-encoded body and
 * the token in it. At most {@value #LINES_PER_SECOND} lines a second: the lines beyond are
 * counted, and the count rides on the next line that is written.
 */
@Component
public class ClientErrorLog {

    private static final Logger log = LoggerFactory.getLogger(ClientErrorLog.class);
    static final int LINES_PER_SECOND = 10;

    private final LineLimit limit = new LineLimit(LINES_PER_SECOND);

    public void log(HttpServletRequest request, int status, String type, String detail) {
        long dropped = limit.admit();
        if (dropped < 0) {
            return;
        }
        String method = request.getMethod() == null ? "?" : request.getMethod();
        String path = request.getRequestURI() == null ? "?" : request.getRequestURI();
        log.info("Client error {} {} on {} {} from {}: {}{}", status, type, clean(method, 200), clean(path, 200),
                request.getRemoteAddr(), clean(String.valueOf(detail), 500),
                dropped > 0 ? " (" + dropped + " more not logged)" : "");
    }

    /**
     * A client error Trent classed itself ({@link ClientErrors#classify}): a value PostgreSQL
     * refused is logged at WARN with its SQL state and the place in Trent that sent it (it may be
     * Trent's own bug), everything else as {@link #log(HttpServletRequest, int, String, String)}.
     */
    public void log(HttpServletRequest request, ProblemException p) {
        if (!(p instanceof ClientErrors.RefusedValue refused)) {
            log(request, p.status().value(), p.type(), p.getMessage());
            return;
        }
        long dropped = limit.admit();
        if (dropped < 0) {
            return;
        }
        log.warn("PostgreSQL refused a value (SQLSTATE {}, sent by {}) on {} {} from {}: answered 400 {}; if the "
                + "request was valid, the value is Trent's own{}", refused.sqlState(), refused.origin(),
                clean(String.valueOf(request.getMethod()), 200), clean(String.valueOf(request.getRequestURI()), 200),
                request.getRemoteAddr(), p.type(), dropped > 0 ? " (" + dropped + " more not logged)" : "");
    }

    /**
     * A refused credential (an unknown API key, a token on the wrong API), at WARN, under the
     * same limit: a flood of bad keys cannot grow the log faster than the limit. Every refusal is
     * still counted by the failure-burst audit events.
     */
    public void refusedCredential(HttpServletRequest request, String what) {
        long dropped = limit.admit();
        if (dropped < 0) {
            return;
        }
        log.warn("{} on {} {} from {}{}", what, clean(String.valueOf(request.getMethod()), 200),
                clean(String.valueOf(request.getRequestURI()), 200), request.getRemoteAddr(),
                dropped > 0 ? " (" + dropped + " more client-error lines not logged)" : "");
    }

    /** Keeps a log line one line: control characters become '?', and it is cut at 200 characters. */
    static String clean(String s) {
        return clean(s, 200);
    }

    static String clean(String s, int max) {
        StringBuilder b = new StringBuilder(Math.min(s.length(), max));
        for (int i = 0; i < s.length() && i < max; i++) {
            char c = s.charAt(i);
            b.append(c < 0x20 || c == 0x7f ? '?' : c);
        }
        return s.length() > max ? b + "..." : b.toString();
    }
}
