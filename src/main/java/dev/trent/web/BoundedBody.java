package dev.trent.web;

import java.io.IOException;
import java.io.InputStream;

import org.springframework.http.HttpStatus;

import jakarta.servlet.http.HttpServletRequest;

/** Reads a request body of at most {@code max} bytes (a CSR), answering 413 problem+json beyond. */
public final class BoundedBody {

    private BoundedBody() {
    }

    public static byte[] read(HttpServletRequest request, int max) throws IOException {
        if (request.getContentLengthLong() > max) {
            throw tooLarge(max);
        }
        try (InputStream in = request.getInputStream()) {
            byte[] body = in.readNBytes(max + 1);
            if (body.length > max) {
                throw tooLarge(max);
            }
            return body;
        }
    }

    private static ProblemException tooLarge(int max) {
        return new ProblemException(HttpStatus.PAYLOAD_TOO_LARGE, "payload-too-large", "Payload too large",
                "A CSR body may be at most " + max + " bytes.");
    }
}
