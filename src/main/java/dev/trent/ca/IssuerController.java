package dev.trent.ca;

import java.util.List;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.operator.OperatorPrincipal;

/**
 * Operator API for issuers: which are known and active (AUDITOR), and rotation to another key
 * in the configured container (ADMIN, audited).
 */
@RestController
class IssuerController {

    private final IssuerRegistry issuers;

    IssuerController(IssuerRegistry issuers) {
        this.issuers = issuers;
    }

    record RotateRequest(String keyLabel, Boolean allowNewRoot) {
    }

    @GetMapping("/api/v1/issuers")
    Map<String, List<IssuerRegistry.Summary>> list() {
        return Map.of("issuers", issuers.summaries());
    }

    @PostMapping("/api/v1/issuers/rotate")
    Map<String, Object> rotate(@RequestBody RotateRequest body) {
        String previous = issuers.active().id();
        Issuer next = issuers.rotate(body == null ? null : body.keyLabel(),
                body != null && Boolean.TRUE.equals(body.allowNewRoot()), OperatorPrincipal.current().actor());
        IssuerRegistry.Summary summary = issuers.summaries().stream().filter(s -> s.id().equals(next.id()))
                .findFirst().orElseThrow();
        return Map.of("active", summary, "previous", previous, "changed", !previous.equals(next.id()));
    }
}
