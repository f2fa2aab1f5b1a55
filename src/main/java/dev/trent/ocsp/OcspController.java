package dev.trent.ocsp;

import java.io.IOException;

import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The OCSP endpoints as Spring MVC sees them. With the fast path on (the default) the
 * {@link OcspFastPathFilter} answers these requests before Spring Security and MVC; with
 * {@code trent.ocsp.fast-path=false} they arrive here. Either way {@link OcspHttp} answers.
 */
@RestController
class OcspController {

    private final OcspHttp http;

    OcspController(OcspHttp http) {
        this.http = http;
    }

    /** Every method: {@link OcspHttp} answers the ones it does not serve with a 405 in OCSP. */
    @RequestMapping({"/ocsp", "/ocsp/**"})
    void ocsp(HttpServletRequest request, HttpServletResponse response) throws IOException {
        http.handle(request, response);
    }
}
