package dev.trent.web;

import java.io.IOException;
import java.util.Optional;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;

/**
 * Tomcat's error report, as problem+json instead of an HTML page: for the errors Tomcat answers
 * itself (a malformed URL, request line or header, a header over the size limit, TRACE, a method
 * it does not know) and for any error status set without a body ({@code sendError}) or an
 * exception that reached the container. Spring Boot's {@code /error} page is switched off, so
 * every such error ends here. Under {@code /ocsp} the body is an OCSP {@code malformedRequest}
 * (or {@code internalError} for a 5xx) with {@code application/ocsp-response}.
 *
 * <p>An exception {@link ClientErrors} recognises as the client's fault becomes its 4xx; Tomcat's
 * 501 for an unknown method becomes 405 (the method is what is wrong, and no client should see a
 * 5xx for it).
 */
class ProblemErrorReportValve extends ErrorReportValve {

    private final ClientErrorLog clientErrors;

    ProblemErrorReportValve(ClientErrorLog clientErrors) {
        this.clientErrors = clientErrors;
        setShowReport(false);
        setShowServerInfo(false);
    }

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        String type = Problems.typeFor(status);
        String detail;
        Optional<ProblemException> client = throwable == null ? Optional.empty() : ClientErrors.classify(throwable);
        if (client.isPresent()) {
            status = client.get().status().value();
            type = client.get().type();
            detail = client.get().getMessage();
        } else if (status == 501 && request.getHeader("Transfer-Encoding") != null) {
            // Tomcat's 501 for a transfer coding it does not implement (RFC 9112 6.1 suggests 501;
            // Trent answers what a client sends with a 4xx).
            status = 400;
            type = Problems.typeFor(status);
            detail = "The Transfer-Encoding " + ClientErrorLog.clean(request.getHeader("Transfer-Encoding"))
                    + " is not supported: Trent reads a body sent as is (with Content-Length) or chunked.";
        } else if (status == 501) {
            status = 405;
            type = Problems.typeFor(status);
            detail = "The method " + ClientErrorLog.clean(String.valueOf(request.getMethod())) + " is not supported.";
        } else {
            detail = detail(status, response.getMessage());
        }
        response.setStatus(status);
        if (client.isPresent()) {
            clientErrors.log(request, client.get());
        } else if (status < 500) {
            clientErrors.log(request, status, type, detail);
        } // a 5xx with an exception: Tomcat's StandardWrapperValve has logged it
        try {
            response.setHeader("Cache-Control", "no-store");
            if (Problems.isOcspPath(request.getRequestURI())) {
                byte[] der = status >= 500 ? Problems.OCSP_INTERNAL_ERROR : Problems.OCSP_MALFORMED_REQUEST;
                response.setContentType("application/ocsp-response");
                response.setContentLength(der.length);
                response.getOutputStream().write(der);
            } else {
                byte[] json = Problems.problemJson(status, type, Problems.title(status), detail);
                response.setContentType("application/problem+json");
                response.setContentLength(json.length);
                response.getOutputStream().write(json);
            }
            response.finishResponse();
        } catch (IOException | IllegalStateException e) {
            // The client went away, or the response was taken over; nothing more can be said.
        }
    }

    private static String detail(int status, String tomcatMessage) {
        String what = tomcatMessage == null || tomcatMessage.isBlank() ? null : ClientErrorLog.clean(tomcatMessage);
        return switch (status) {
            case 400 -> what != null && what.startsWith("The request was rejected") ? what // the firewall's reason
                    : "The request cannot be parsed (a malformed URL or %-escape, a control character, or a header "
                    + "too large)" + (what == null ? "." : ": " + what);
            case 404 -> "No such resource.";
            case 405 -> "This method is not allowed here.";
            case 408 -> "The request was not received in time.";
            case 413 -> "The request is too large.";
            case 414 -> "The URL is too long.";
            case 431 -> "The request headers are too large.";
            default -> status >= 500 ? "An unexpected error occurred; nothing was changed."
                    : Problems.title(status) + (what == null ? "." : ": " + what);
        };
    }
}
