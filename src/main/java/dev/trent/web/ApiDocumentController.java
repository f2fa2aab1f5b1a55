package dev.trent.web;

import java.io.IOException;
import java.io.InputStream;

import org.springframework.core.io.ClassPathResource;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code GET /openapi.yaml}: the API contract, the very file at the top of the repository
 * (packaged into the jar), without authentication. Swagger UI ({@code /swagger-ui.html}) shows it.
 */
@RestController
class ApiDocumentController {

    private final byte[] document;

    ApiDocumentController() throws IOException {
        try (InputStream in = new ClassPathResource("static/openapi.yaml").getInputStream()) {
            this.document = in.readAllBytes();
        }
    }

    @GetMapping(value = "/openapi.yaml", produces = "application/yaml")
    ResponseEntity<byte[]> document() {
        return ResponseEntity.ok().contentType(MediaType.parseMediaType("application/yaml"))
                .cacheControl(CacheControl.maxAge(java.time.Duration.ofHours(1)).cachePublic()).body(document);
    }
}
