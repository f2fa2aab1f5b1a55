package dev.trent.revocation;

import java.time.Instant;
import java.util.UUID;

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.inventory.CertificateRenderer;
import dev.trent.operator.OperatorPrincipal;
import dev.trent.web.ProblemException;
import dev.trent.web.RequestInstants;

/** Operator revocation (OPERATOR and up). */
@RestController
class RevocationController {

    private final RevocationService service;
    private final CertificateRenderer renderer;

    RevocationController(RevocationService service, CertificateRenderer renderer) {
        this.service = service;
        this.renderer = renderer;
    }

    record RevokeRequest(String reason, String invalidityDate) {
    }

    record BulkRequest(String deviceId, String profile, String batchId, String reason, Boolean dryRun) {
    }

    @PostMapping("/api/v1/certificates/{serial}/revoke")
    CertificateRenderer.CertificateView revoke(@PathVariable String serial, @RequestBody RevokeRequest body) {
        return renderer.summary(service.revoke(serial, reason(body.reason()), instant(body.invalidityDate()),
                OperatorPrincipal.current().actor()));
    }

    @PostMapping("/api/v1/certificates/{serial}/unhold")
    CertificateRenderer.CertificateView unhold(@PathVariable String serial) {
        return renderer.summary(service.unhold(serial, OperatorPrincipal.current().actor()));
    }

    @PostMapping("/api/v1/certificates/bulk-revoke")
    RevocationService.BulkResult bulk(@RequestBody BulkRequest body) {
        UUID batch;
        try {
            batch = body.batchId() == null ? null : UUID.fromString(body.batchId());
        } catch (IllegalArgumentException e) {
            throw ProblemException.invalidRequest("batchId must be a UUID as returned by the batch token API.");
        }
        return service.revokeAll(new RevocationService.Selection(body.deviceId(), body.profile(), batch),
                reason(body.reason()), body.dryRun() == null || body.dryRun(), OperatorPrincipal.current().actor());
    }

    private static RevocationReason reason(String name) {
        if (name == null) {
            throw ProblemException.invalidRequest("reason is required: one of " + RevocationReason.names() + ".");
        }
        try {
            return RevocationReason.parse(name);
        } catch (IllegalArgumentException e) {
            throw ProblemException.invalidRequest("Unknown reason '" + name.replaceAll("[^\\x20-\\x7e]", "?")
                    + "'; " + e.getMessage() + ".");
        }
    }

    private static Instant instant(String text) {
        return RequestInstants.instant("invalidityDate", text, "2026-11-20T08:00:00Z");
    }
}
