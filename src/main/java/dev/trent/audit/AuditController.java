package dev.trent.audit;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.web.ProblemException;

/**
 * {@code /api/v1/audit}: pages through the audit log and verifies it (AUDITOR); signs a
 * checkpoint now (ADMIN), e.g. before a backup.
 */
@RestController
class AuditController {

    private final AuditTrail trail;

    AuditController(AuditTrail trail) {
        this.trail = trail;
    }

    @GetMapping("/api/v1/audit")
    AuditTrail.Page page(@RequestParam(required = false) Long beforeSeq,
            @RequestParam(defaultValue = "100") int limit, @RequestParam(required = false) String action,
            @RequestParam(required = false) String actor, @RequestParam(required = false) String subject) {
        if (limit < 1 || limit > 1000) {
            throw ProblemException.invalidRequest("'limit' must be between 1 and 1000.");
        }
        if (beforeSeq != null && beforeSeq < 1) {
            throw ProblemException.invalidRequest("'beforeSeq' must be positive.");
        }
        return trail.page(beforeSeq, limit, action, actor, subject);
    }

    @GetMapping("/api/v1/audit/verify")
    AuditVerifier.Report verify(@RequestParam(required = false) String expect) {
        AuditVerifier.Expectation expected = expect == null ? null : AuditVerifier.Expectation.parse(expect);
        if (expect != null && expected == null) {
            throw ProblemException.invalidRequest("'expect' is <entry>:<64 hex digits>, as a checkpoint line of the "
                    + "application log gives it.");
        }
        return trail.verify(expected);
    }

    @PostMapping("/api/v1/audit/checkpoint")
    Map<String, Object> checkpoint() {
        // Everything committed before this call first: "sign now" covers what the caller just did.
        trail.sealCommitted(java.time.Duration.ofSeconds(5));
        Long seq = trail.checkpoint();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("signed", seq != null);
        out.put("seq", seq);
        return out;
    }
}
