package dev.trent.enrollment;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.operator.OperatorPrincipal;
import dev.trent.web.MediaTypes;

/** {@code /api/v1/enrollment-tokens}: OPERATOR or ADMIN. Tokens are shown only in these responses. */
@RestController
@RequestMapping("/api/v1/enrollment-tokens")
class EnrollmentTokenController {

    private final EnrollmentTokenService service;

    EnrollmentTokenController(EnrollmentTokenService service) {
        this.service = service;
    }

    record CreateToken(String deviceId, String profile, Long ttlSeconds, List<String> dnsNames) {
    }

    record CreateBatch(List<String> deviceIds, String profile, Long ttlSeconds) {
    }

    @PostMapping
    ResponseEntity<EnrollmentTokenService.IssuedToken> create(@RequestBody CreateToken body) {
        EnrollmentTokenService.IssuedToken token = service.create(body.deviceId(), body.profile(), body.ttlSeconds(),
                body.dnsNames(), OperatorPrincipal.current().actor());
        return ResponseEntity.status(HttpStatus.CREATED).cacheControl(org.springframework.http.CacheControl.noStore())
                .body(token);
    }

    /** Many device ids at once (manufacturing lines); tokens back as JSON or, by Accept, CSV. */
    @PostMapping("/batch")
    ResponseEntity<?> createBatch(@RequestBody CreateBatch body,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        MediaType type = MediaTypes.negotiate(accept, List.of(MediaType.APPLICATION_JSON, MediaTypes.TEXT_CSV));
        EnrollmentTokenService.Batch batch = service.createBatch(body.deviceIds(), body.profile(), body.ttlSeconds(),
                OperatorPrincipal.current().actor());
        ResponseEntity.BodyBuilder response = ResponseEntity.status(HttpStatus.CREATED)
                .cacheControl(org.springframework.http.CacheControl.noStore());
        if (type.equals(MediaTypes.TEXT_CSV)) {
            return response.contentType(new MediaType(MediaTypes.TEXT_CSV, StandardCharsets.UTF_8))
                    .header("X-Trent-Batch-Id", batch.batchId().toString())
                    .body(batch.csv().getBytes(StandardCharsets.UTF_8));
        }
        return response.contentType(MediaType.APPLICATION_JSON).body(batch);
    }
}
