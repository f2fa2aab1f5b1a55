package dev.trent.console;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;

import dev.trent.audit.AuditTrail;
import dev.trent.web.ProblemException;

/**
 * The audit log as {@code GET /api/v1/audit} pages it (newest first, by chain position, filtered
 * by action, actor or subject), and the chain's verification ({@code /api/v1/audit/verify}) with
 * the first broken link, on request: it reads the whole chain.
 */
@Controller
class AuditPageController {

    static final int PAGE_SIZE = 50;

    private final AuditTrail trail;

    AuditPageController(AuditTrail trail) {
        this.trail = trail;
    }

    @GetMapping("/console/audit")
    String audit(@RequestParam(required = false) Long beforeSeq, @RequestParam(required = false) String action,
            @RequestParam(required = false) String actor, @RequestParam(required = false) String subject,
            @RequestParam(required = false) String verify, Model model) {
        if (beforeSeq != null && beforeSeq < 1) {
            throw ProblemException.invalidRequest("'beforeSeq' must be positive.");
        }
        AuditTrail.Page page = trail.page(beforeSeq, PAGE_SIZE, blank(action), blank(actor), blank(subject));
        model.addAttribute("events", page.events());
        model.addAttribute("next", page.nextBeforeSeq());
        model.addAttribute("q", java.util.Map.of("action", nz(action), "actor", nz(actor), "subject", nz(subject)));
        if (verify != null) {
            model.addAttribute("report", trail.verify(null));
        }
        return "console/audit";
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
