package dev.trent.ocsp;

import java.io.IOException;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
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

    @PostMapping("/ocsp")
    void post(HttpServletRequest request, HttpServletResponse response) throws IOException {
        http.handle(request, response);
    }

    @GetMapping("/ocsp/**")
    void get(HttpServletRequest request, HttpServletResponse response) throws IOException {
        http.handle(request, response);
    }
}
